import Foundation
import XCTest
import TestSupport

/// The whole demo study (pipelines/demo.json, 49 subjects x 2 sessions) run by the built binary:
/// its group analyses find the planted effects at FWE < 0.05 with the default method (TFCE
/// permutation inference), each as one cluster in the planted region; the longitudinal stage finds
/// the responders' decrease, and the ROI follow-ups report it with the clinical correlation and an
/// out-of-sample prediction of response. The QC rules exclude the two planted high-motion scans, and
/// a 24P sensitivity run on the same cache tells the strategies apart by QC-FC. 1000 permutations
/// instead of 5000 keep the test short; the method is the same.
final class DemoFindingsTests: XCTestCase {
    func testDemoFindsThePlantedEffects() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pipe-demo-findings-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("out")
        let stages = ["responders_baseline", "anxiety_baseline", "improvement_baseline", "responders_change"]
        var args = ["run", packageRoot.appendingPathComponent("pipelines/demo.json").path, "--quiet",
                    "--cache-dir", folder.appendingPathComponent("cache").path, "--set", "outputs=\(out.path)"]
        for stage in stages { args += ["--set", "stages.\(stage).permutations=1000"] }
        let result = try runPipe(args)
        XCTAssertEqual(result.status, 0, result.stderr)

        // (stage, expected sign of t, planted region)
        let expected: [(String, Double, String)] = [
            ("responders_baseline", 1, "precuneus_left"),   // responders > non-responders, LBA seed
            ("anxiety_baseline", -1, "MTG_right"),          // anxious < non-anxious, CMA seed
            ("improvement_baseline", -1, "precuneus_left"), // coupling rises with improvement (more negative % change)
        ]
        for (stage, sign, region) in expected {
            let folder = out.appendingPathComponent(stage)
            let files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            let summaryName = try XCTUnwrap(files.first { $0.hasSuffix("_summary.json") }, stage)
            let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent(summaryName))) as! [String: Any]
            let contrast = (summary["contrasts"] as! [[String: Any]])[0]
            let tfce = try XCTUnwrap(contrast["min_p_fwe_tfce"] as? Double, stage)
            XCTAssertLessThan(tfce, 0.05, "\(stage): TFCE FWE p = \(tfce)")
            XCTAssertGreaterThan(contrast["significant_voxels_tfce"] as? Int ?? 0, 10, stage)

            let tableName = try XCTUnwrap(files.first { $0.hasSuffix("_desc-clusters.tsv") }, stage)
            let rows = try String(contentsOf: folder.appendingPathComponent(tableName), encoding: .utf8)
                .split(separator: "\n").dropFirst().map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
            let main = rows.filter { !$0[0].contains("a") && !$0[0].contains("b") && !$0[0].contains("c") }
            XCTAssertFalse(main.isEmpty, "\(stage): no cluster")
            let top = main.max { abs(Double($0[4])!) < abs(Double($1[4])!) }!
            XCTAssertEqual(Double(top[4])!.sign, sign < 0 ? .minus : .plus, "\(stage): peak t \(top[4])")
            XCTAssertEqual(top.last, region, "\(stage): the strongest cluster should peak in \(region): \(top)")
            XCTAssertLessThan(Double(top[11]) ?? 1, 0.05, "\(stage): cluster-mass FWE p")
            // Only the planted region: any other cluster must not survive FWE.
            for row in main where row.last != region {
                XCTAssertGreaterThanOrEqual(Double(row[11]) ?? 1, 0.05, "\(stage): a significant cluster outside the planted region: \(row)")
            }
        }

        // ROI follow-up table: one value per anxious subject in the responder cluster.
        let roiName = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("responders_baseline").path)
            .first { $0.hasSuffix("_desc-roi.tsv") }!
        let roi = try String(contentsOf: out.appendingPathComponent("responders_baseline/\(roiName)"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(roi.count, 1 + 31)
        XCTAssertTrue(roi[0].hasSuffix("cluster1"))

        try checkLongitudinal(out.appendingPathComponent("responders_change"))
        try checkFollowUp(out)
        try checkQC(out)
        try checkReport(out.appendingPathComponent("report"))

        // The sensitivity run of docs/demo.md: 24P + WM/CSF published elsewhere on the same cache.
        // Only what the confounds touch reruns, and QC-FC tells the strategies apart: with 6P the
        // unmodelled spin history makes QC-FC depend on distance; 24P removes that dependence.
        let out24 = folder.appendingPathComponent("out-24p")
        var args24 = ["run", packageRoot.appendingPathComponent("pipelines/demo.json").path,
                      "--cache-dir", folder.appendingPathComponent("cache").path, "--outputs", out24.path,
                      "--set", "stages.clean.confounds=24P+wm_csf", "--set", "stages.clean.min_dof=1", "--json"]
        for stage in stages { args24 += ["--set", "stages.\(stage).permutations=100"] }
        let sensitivity = try runPipe(args24)
        XCTAssertEqual(sensitivity.status, 0, sensitivity.stderr)
        let summaryLine = try XCTUnwrap(sensitivity.stdout.split(separator: "\n").last { $0.contains("\"run-finished\"") }, sensitivity.stdout)
        let run = try JSONSerialization.jsonObject(with: Data(summaryLine.utf8)) as! [String: Any]
        XCTAssertEqual(run["cached"] as? Int, 99, "the 98 synthetic scans and the cohort: \(summaryLine)")
        func qcfc(_ root: URL) throws -> [String: [String: Any]] {
            let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: root.appendingPathComponent("qc/qc_summary.json"))) as! [String: Any]
            return summary["qcfc"] as! [String: [String: Any]]
        }
        let six = try qcfc(out), twentyFour = try qcfc(out24)
        for session in ["baseline", "day13"] {
            let r6 = try XCTUnwrap(six[session]?["distance_dependence_r"] as? Double)
            let r24 = try XCTUnwrap(twentyFour[session]?["distance_dependence_r"] as? Double)
            XCTAssertLessThan(r6, -0.3, "\(session): 6P QC-FC should fall with distance")
            XCTAssertLessThan(abs(r24), abs(r6) - 0.2, "\(session): 24P should remove most of the distance dependence (6P \(r6), 24P \(r24))")
        }
    }

    /// The report: every analysis named, every image a PNG that Pillow decodes, nothing fetched
    /// from the network; in a real browser (chromium-headless-shell) the page renders with its
    /// colour overlays, and the DOM holds every section.
    private func checkReport(_ report: URL) throws {
        let html = try String(contentsOf: report.appendingPathComponent("index.html"), encoding: .utf8)
        let stages = ["cohort", "clean", "qc", "connectivity", "responders_baseline", "anxiety_baseline", "improvement_baseline",
                      "responders_change", "responders_followup", "anxiety_followup"]
        for stage in stages { XCTAssertTrue(html.contains("id=\"stage-\(stage.replacingOccurrences(of: "_", with: "-"))\""), "report lacks \(stage)") }
        // The summary names the spec by its digest (as dataset_description.json does), and the page
        // ends with the methods and their references.
        let description = try JSONSerialization.jsonObject(with: Data(contentsOf: report.deletingLastPathComponent().appendingPathComponent("dataset_description.json"))) as! [String: Any]
        let digest = try XCTUnwrap(((description["GeneratedBy"] as? [[String: Any]])?.first?["SpecSHA256"] as? String))
        XCTAssertTrue(html.contains("SHA-256 <code>\(digest.prefix(12))</code>"), "the report must name the spec's digest \(digest)")
        XCTAssertTrue(html.contains("<h2 id=\"methods\">") && html.contains("[Power2012]") && html.contains("<h3>responders_change (<code>longitudinal</code>"),
                      "the report must carry the methods text")
        // The motion section starts with the planted high-motion scan, and the maps are drawn over
        // the mean EPI of the runs QC kept.
        let motion = html.components(separatedBy: "id=\"stage-clean\"").last ?? ""
        XCTAssertTrue(motion.components(separatedBy: "<h3>").dropFirst().first?.hasPrefix("sub-14_ses-day13 <small>(excluded by QC)") ?? false,
                      "the scan that moved most is sub-14 at day 13")
        XCTAssertTrue(html.contains("drawn over the mean EPI of the 96 included runs"))
        // The longitudinal test's cluster: each subject's baseline and day-13 values as lines.
        let change = html.components(separatedBy: "id=\"stage-responders-change\"").last?.components(separatedBy: "<h2").first ?? ""
        XCTAssertTrue(change.contains("Cluster 1: each subject's mean z"), "the longitudinal section must draw pre → post lines in its cluster")
        for reference in ["src=\"http", "href=\"http", "url(http", "src=\"//", "<script", "@import"] {
            XCTAssertFalse(html.contains(reference), "the report must load nothing from elsewhere: \(reference)")
        }
        let sources = html.components(separatedBy: "<img src=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
        XCTAssertEqual(sources.count, 6 * 6 + 3 + 6 * 2 * 3,
                       "six images for each of the six voxelwise tests, three carpet plots, three slices per seed and session")
        let python = try crossCheckPython(modules: ["PIL"])
        let decoded = try runProcess(python, ["-c", "import sys\nfrom PIL import Image\nfor p in sys.argv[1:]:\n    im = Image.open(p); im.load(); print(im.format, im.mode, im.size[0] > 0)"]
                                     + sources.map { report.appendingPathComponent($0).path })
        XCTAssertEqual(decoded.status, 0, decoded.output)
        XCTAssertEqual(decoded.output.split(separator: "\n").filter { $0 == "PNG RGB True" }.count, sources.count, decoded.output)

        guard let chromium = ["/usr/bin/chromium-headless-shell", "/usr/bin/chromium"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            if ProcessInfo.processInfo.environment["PIPE_REQUIRE_CROSSCHECK"] == "1" { XCTFail("chromium-headless-shell is not installed (scripts/test installs it)") }
            return
        }
        // No network: every host name fails to resolve.
        let common = ["--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--host-resolver-rules=MAP * ~NOTFOUND", "--window-size=1200,9000"]
        let page = "file://" + report.appendingPathComponent("index.html").path
        let dom = try runProcess(chromium, common + ["--dump-dom", page])
        XCTAssertEqual(dom.status, 0, String(dom.output.suffix(2000)))
        for stage in stages { XCTAssertTrue(dom.output.contains(">\(stage) <small>"), "the rendered page lacks the \(stage) heading") }
        let screenshot = report.deletingLastPathComponent().appendingPathComponent("report-screenshot.png")
        let shot = try runProcess(chromium, common + ["--screenshot=\(screenshot.path)", page])
        XCTAssertEqual(shot.status, 0, String(shot.output.suffix(2000)))
        // The screenshot is not blank: it has text (dark pixels), the QC charts' blue bars, and the
        // brain images' cold_hot overlays (saturated yellow and cyan), so the PNGs were decoded.
        let census = try runProcess(python, ["-c", """
            import sys
            from PIL import Image
            im = Image.open(sys.argv[1]).convert("RGB")
            px = list(im.getdata())
            dark = sum(1 for r, g, b in px if r + g + b < 150)
            yellow = sum(1 for r, g, b in px if r > 200 and g > 180 and b < 90)
            cyan = sum(1 for r, g, b in px if r < 90 and g > 150 and b > 200)
            bars = sum(1 for r, g, b in px if (r, g, b) == (0x5b, 0x7f, 0xa6))
            print(im.size[0], im.size[1], dark, yellow, cyan, bars)
            """, screenshot.path])
        XCTAssertEqual(census.status, 0, census.output)
        let counts = (census.output.split(separator: "\n").last ?? "").split(separator: " ").compactMap { Int($0) }
        XCTAssertEqual(counts.count, 6, census.output)
        if counts.count == 6 {
            XCTAssertEqual(counts[0], 1200)
            XCTAssertGreaterThan(counts[2], 10_000, "text")
            XCTAssertGreaterThan(counts[3], 50, "yellow (positive) overlays")
            XCTAssertGreaterThan(counts[4], 50, "cyan (negative) overlays")
            XCTAssertGreaterThan(counts[5], 500, "histogram bars")
        }
    }

    /// The planted high-motion scans, and only they, are excluded, each by the rule its motion
    /// breaks, as the QC table shows; the group stages that would have used them list them.
    private func checkQC(_ out: URL) throws {
        func table(_ name: String) throws -> [[String: String]] {
            let lines = try String(contentsOf: out.appendingPathComponent("qc/\(name)"), encoding: .utf8).split(separator: "\n")
                .map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
            return lines.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(lines[0], $0)) }
        }
        let qc = try table("qc.tsv"), exclusions = try table("exclusions.tsv")
        XCTAssertEqual(qc.count, 98)
        XCTAssertEqual(Set(exclusions.map { "\($0["participant_id"]!) \($0["session"]!)" }), ["sub-14 day13", "sub-33 baseline"], "\(exclusions)")
        XCTAssertEqual(Set(qc.filter { $0["excluded"] == "yes" }.map { "\($0["participant_id"]!) \($0["session"]!)" }), ["sub-14 day13", "sub-33 baseline"])
        let mover = try XCTUnwrap(qc.first { $0["participant_id"] == "sub-14" && $0["session"] == "day13" })
        XCTAssertGreaterThan(Double(mover["mean_fd"]!)!, 0.5)
        XCTAssertTrue(exclusions.contains { $0["participant_id"] == "sub-14" && $0["rule"] == "max_mean_fd" })
        let jerky = try XCTUnwrap(qc.first { $0["participant_id"] == "sub-33" && $0["session"] == "baseline" })
        XCTAssertLessThan(Double(jerky["mean_fd"]!)!, 0.5)
        XCTAssertGreaterThan(Double(jerky["censored_fraction"]!)!, 0.2)
        XCTAssertEqual(exclusions.filter { $0["participant_id"] == "sub-33" }.map { $0["rule"]! }, ["max_censored_fraction"])
        // Everyone else moves less than the rules allow.
        let median = qc.map { Double($0["mean_fd"]!)! }.sorted()[49]
        XCTAssertLessThan(median, 0.25)
        // Both planted scans are non-anxious: anxiety_baseline drops sub-33, the anxious-only
        // analyses keep all 31.
        let folder = out.appendingPathComponent("anxiety_baseline")
        let name = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: folder.path).first { $0.hasSuffix("_summary.json") })
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent(name))) as! [String: Any]
        XCTAssertEqual(summary["excluded_by_qc"] as? [String], ["sub-33 ses-baseline: max_censored_fraction 0.220339 (threshold 0.2)"])
        XCTAssertEqual((summary["subjects"] as? [String])?.count, 48)
    }

    /// The voxelwise pre/post test: responders' LBA–precuneus coupling falls from baseline to day 13
    /// (TFCE FWE < 0.05, one cluster, in precuneus_left); non-responders' does not change.
    private func checkLongitudinal(_ folder: URL) throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        let name = try XCTUnwrap(files.first { $0.hasSuffix("_summary.json") })
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent(name))) as! [String: Any]
        XCTAssertEqual((summary["subjects"] as? [String])?.count, 31)
        let paired = try XCTUnwrap(summary["paired"] as? [[String: Any]])
        let responders = try XCTUnwrap(paired.first { $0["group"] as? String == "responder" })
        XCTAssertLessThan(responders["min_p_fwe_tfce"] as? Double ?? 1, 0.05)
        let clusters = try XCTUnwrap(responders["significant_clusters"] as? [[String: Any]])
        XCTAssertEqual(clusters.count, 1, "\(clusters)")
        XCTAssertEqual(clusters.first?["sign"] as? Int, -1, "coupling should fall after treatment")
        XCTAssertEqual(clusters.first?["peak_label"] as? String, "precuneus_left")
        let nonresponders = try XCTUnwrap(paired.first { $0["group"] as? String == "nonresponder" })
        XCTAssertGreaterThanOrEqual(nonresponders["min_p_fwe_tfce"] as? Double ?? 0, 0.05)
        XCTAssertEqual((nonresponders["significant_clusters"] as? [Any])?.count, 0)
    }

    /// The ROI follow-up of the baseline responder cluster, with its table values read back.
    private func checkFollowUp(_ out: URL) throws {
        func rows(_ stage: String, _ suffix: String) throws -> [[String: String]] {
            let folder = out.appendingPathComponent(stage)
            let name = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: folder.path).first { $0.hasSuffix(suffix) }, suffix)
            let lines = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8).split(separator: "\n").map {
                $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            }
            return lines.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(lines[0], $0)) }
        }
        let paired = try rows("responders_followup", "_desc-paired.tsv")
        let responders = try XCTUnwrap(paired.first { $0["region"] == "baselineCluster" && $0["subjects"] == "responder" })
        XCTAssertLessThan(Double(responders["mean_change"]!)!, -0.3, "\(responders)")
        XCTAssertLessThan(Double(responders["p"]!)!, 1e-5)
        XCTAssertLessThan(Double(responders["cohen_dz"]!)!, -1.5)
        let nonresponders = try XCTUnwrap(paired.first { $0["region"] == "baselineCluster" && $0["subjects"] == "nonresponder" })
        XCTAssertGreaterThan(Double(nonresponders["mean_change"]!)!, Double(responders["mean_change"]!)! + 0.2)

        // Baseline coupling tracks the MADRS change (negative % = improvement).
        let correlations = try rows("responders_followup", "_desc-correlations.tsv")
        let baseline = try XCTUnwrap(correlations.first { $0["region"] == "baselineCluster" && $0["x"] == "baseline" })
        XCTAssertLessThan(Double(baseline["pearson_r"]!)!, -0.5, "\(baseline)")
        XCTAssertLessThan(Double(baseline["spearman_p"]!)!, 0.001)

        // Baseline coupling predicts response, out of sample (the cluster was found on these subjects).
        let prediction = try rows("responders_followup", "_desc-prediction.tsv")
        let cluster = try XCTUnwrap(prediction.first { $0["region"] == "baselineCluster" })
        XCTAssertTrue(cluster["values"]!.hasPrefix("leave-one-out"), "\(cluster)")
        XCTAssertGreaterThan(Double(cluster["auc"]!)!, 0.8)
        XCTAssertLessThan(Double(cluster["permutation_p"]!)!, 0.01)
        XCTAssertNotEqual(cluster["in_sample_auc"], "n/a")
        let scatter = try rows("responders_followup", "_roi-baselineCluster_desc-scatter.tsv")
        XCTAssertEqual(scatter.count, 31)
        XCTAssertEqual(Set(scatter.map { $0["region_definition"]! }), ["leave-one-out"])
        // The in-sample values the circular ROC curve is drawn from give the in-sample AUC.
        let positives = scatter.filter { $0["responder"] == "responder" }.map { Double($0["baseline_in_sample"]!)! }
        let negatives = scatter.filter { $0["responder"] == "nonresponder" }.map { Double($0["baseline_in_sample"]!)! }
        var wins = 0.0
        for a in positives { for b in negatives { wins += a > b ? 1 : (a == b ? 0.5 : 0) } }
        XCTAssertEqual(wins / Double(positives.count * negatives.count), Double(cluster["in_sample_auc"]!)!, accuracy: 1e-5)

        // Anxious < non-anxious in the CMA–MTG cluster at both sessions, with no change over time.
        let anxiety = try rows("anxiety_followup", "_desc-paired.tsv")
        let anxious = try XCTUnwrap(anxiety.first { $0["subjects"] == "anxious" })
        let nonanxious = try XCTUnwrap(anxiety.first { $0["subjects"] == "nonanxious" })
        XCTAssertLessThan(Double(anxious["mean_day13"]!)! + 0.2, Double(nonanxious["mean_day13"]!)!)
        XCTAssertGreaterThan(Double(anxiety.first { $0["subjects"] == "all" }!["p"]!)!, 0.01)

        // Each summary records the direction its AUC was computed in, which the report draws.
        for (stage, direction) in [("responders_followup", "higher"), ("anxiety_followup", "lower")] {
            let folder = out.appendingPathComponent(stage)
            let name = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: folder.path).first { $0.hasSuffix("_summary.json") })
            let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent(name))) as! [String: Any]
            let region = try XCTUnwrap((summary["regions"] as? [[String: Any]])?.first)
            XCTAssertEqual((region["prediction"] as? [String: Any])?["direction"] as? String, direction, stage)
        }
    }
}
