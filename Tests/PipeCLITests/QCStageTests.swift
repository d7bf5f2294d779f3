import Foundation
import TestSupport
import XCTest

/// The `qc` stage of the demo on five subjects: its table has a row per scan, each rule excludes
/// exactly the scans over its threshold (with a row saying so), a changed threshold reruns only
/// group-level tasks, and a group left with too few subjects is an error naming the exclusions.
final class QCStageTests: XCTestCase {
    private let demo = packageRoot.appendingPathComponent("pipelines/demo.json").path

    /// A folder for one test's cache and outputs (removed after the test), and the arguments that
    /// run the demo on `subjects` there, with 50 permutations and every subject paired.
    private func smallDemo(_ subjects: [String]) throws -> (out: URL, args: [String]) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pipe-qc-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("out")
        var args = ["--set", "cohort.subjects=[" + subjects.map { "\"\($0)\"" }.joined(separator: ",") + "]", "--set", "outputs=\(out.path)",
                    "--cache-dir", folder.appendingPathComponent("cache").path]
        for stage in ["responders_baseline", "anxiety_baseline", "improvement_baseline", "responders_change"] {
            args += ["--set", "stages.\(stage).permutations=50"]
        }
        return (out, args + ["--set", "stages.responders_change.paired=[\"all\"]"])
    }

    func testEachRuleExcludesExactlyTheScansOverItsThresholdAndAThresholdRerunsOnlyQC() throws {
        let (out, args) = try smallDemo(["01", "04", "06", "07", "09"])
        // First without rules: the values.
        let noRules = args + ["--set", "stages.qc={\"kind\": \"qc\", \"from\": [\"clean\", \"connectivity\"]}"]
        let first = try runPipe(["run", demo, "--quiet"] + noRules)
        XCTAssertEqual(first.status, 0, first.stderr)
        let table = try String(contentsOf: out.appendingPathComponent("qc/qc.tsv"), encoding: .utf8)
        let lines = table.split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        let header = lines[0], rows = Array(lines.dropFirst())
        XCTAssertEqual(rows.count, 10, "one row per scan")
        func column(_ name: String) -> [Double] { rows.map { Double($0[header.firstIndex(of: name)!])! } }
        let fd = column("mean_fd"), censored = column("censored_fraction"), coverage = column("min_seed_coverage")
        XCTAssertTrue(fd.allSatisfy { $0 > 0 } && coverage.allSatisfy { $0 > 0 && $0 <= 1 }, table)
        XCTAssertEqual(try String(contentsOf: out.appendingPathComponent("qc/exclusions.tsv"), encoding: .utf8).split(separator: "\n").count, 1)

        // Thresholds halfway between two observed values (the table rounds to 6 digits, so a
        // threshold equal to a printed value could sit just under the scan's own value):
        // exactly the scans above them are excluded.
        func between(_ values: [Double], _ i: Int) -> Double {
            let sorted = values.sorted()
            precondition(sorted[i] < sorted[i + 1], "\(sorted)")
            return (sorted[i] + sorted[i + 1]) / 2
        }
        let fdThreshold = between(fd, 6), censoredThreshold = between(censored, 7)
        let expected = Set(rows.indices.filter { fd[$0] > fdThreshold }.map { "\(rows[$0][0]) \(rows[$0][1]) max_mean_fd" }
                           + rows.indices.filter { censored[$0] > censoredThreshold }.map { "\(rows[$0][0]) \(rows[$0][1]) max_censored_fraction" })
        XCTAssertFalse(expected.isEmpty)
        let withRules = args + ["--set", "stages.qc={\"kind\": \"qc\", \"from\": [\"clean\", \"connectivity\"], "
                                + "\"max_mean_fd\": \(fdThreshold), \"max_censored_fraction\": \(censoredThreshold)}"]
        let plan = try runPipe(["plan", demo, "--changed"] + withRules)
        XCTAssertEqual(plan.status, 0, plan.stderr)
        let toRun = plan.stdout.split(separator: "\n").filter { $0.contains(" run ") }.map { String($0.split(separator: " ")[0]) }
        XCTAssertEqual(toRun, ["qc"], "a changed threshold reruns the qc task, and the group-level tasks after it:\n\(plan.stdout)")
        let perScan = plan.stdout.split(separator: "\n").filter { $0.hasPrefix("clean") || $0.hasPrefix("connectivity") || $0.hasPrefix("data") }
        XCTAssertEqual(perScan, [], "no per-scan task reruns:\n\(plan.stdout)")
        // Five subjects, three of them anxious: the exclusions leave a group too small, which is
        // an error naming them, while the other stages and the qc outputs are published.
        let second = try runPipe(["run", demo, "--quiet", "--keep-going"] + withRules)
        if second.status != 0 {
            XCTAssertEqual(second.status, 1, second.stderr)
            XCTAssertTrue(second.stderr.contains(", once QC excluded "), second.stderr)
        }
        let exclusions = try String(contentsOf: out.appendingPathComponent("qc/exclusions.tsv"), encoding: .utf8)
            .split(separator: "\n").dropFirst().map { $0.split(separator: "\t").map(String.init) }
        XCTAssertEqual(Set(exclusions.map { "\($0[0]) \($0[1]) \($0[3])" }), expected, "\(exclusions)")
        for e in exclusions {
            let value = Double(e[4])!, threshold = Double(e[5])!
            XCTAssertGreaterThan(value, threshold, "\(e)")
        }
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("qc/qc_summary.json"))) as! [String: Any]
        XCTAssertEqual(summary["scans"] as? Int, 10)
        XCTAssertEqual(summary["excluded_scans"] as? Int, Set(exclusions.map { "\($0[0]) \($0[1])" }).count)
        // Every run, a no-op rerun included, ends with the count and the excluded scans by name.
        let excludedScans = Set(exclusions.map { "\($0[0])_ses-\($0[1])" })
        let third = try runPipe(["run", demo, "--keep-going"] + withRules)
        let notice = third.stderr.split(separator: "\n").filter { $0.hasPrefix("qc: ") }
        XCTAssertEqual(notice.count, 1, third.stderr)
        XCTAssertTrue(notice.first?.hasPrefix("qc: \(excludedScans.count) of 10 scans excluded: ") ?? false, third.stderr)
        for scan in excludedScans.sorted().prefix(5) { XCTAssertTrue(notice.first?.contains(scan + " (") ?? false, "\(scan): \(third.stderr)") }
        // `pipe plan` says the same of the cached qc task, in text and in JSON.
        let cachedPlan = try runPipe(["plan", demo] + withRules)
        XCTAssertTrue(cachedPlan.stdout.contains("qc (cached): \(excludedScans.count) of 10 scans excluded: "), cachedPlan.stdout)
        let planJSON = try runPipe(["plan", demo, "--json"] + withRules)
        let items = try JSONSerialization.jsonObject(with: Data(planJSON.stdout.utf8)) as! [[String: Any]]
        let qcItem = try XCTUnwrap(items.first { $0["stage"] as? String == "qc" })
        XCTAssertTrue((qcItem["notice"] as? String)?.hasPrefix("\(excludedScans.count) of 10 scans excluded") ?? false, "\(qcItem)")
    }

    func testARefitClusterMustReadTheGroupStagesQCStage() throws {
        // The roi stage refits responders_baseline's cluster without each subject; without the
        // qc stage it would refit on scans (or runs) the group stage never tested.
        let r = try runPipe(["validate", demo, "--set", "stages.responders_followup.from=[\"connectivity\", \"cohort\", \"responders_baseline\"]"])
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("stages.responders_followup.from: stage responders_baseline reads qc stage qc and this stage none"), r.stderr)
        let off = try runPipe(["validate", demo, "--set", "stages.responders_followup.from=[\"connectivity\", \"cohort\", \"responders_baseline\"]",
                               "--set", "stages.responders_followup.leave_one_out=\"off\""])
        XCTAssertEqual(off.status, 0, off.stderr)
    }

    func testAStageQCWouldNotReadIsASpecErrorAtItsFrom() throws {
        // qc reads a clean stage and a connectivity stage; the cohort's table and atlas it would
        // take without using them.
        let r = try runPipe(["validate", demo, "--set", "stages.qc.from=[\"clean\", \"cohort\"]"])
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("stages.qc.from: a qc stage reads a clean stage, then optionally a connectivity stage; "
                                        + "it would not read synth_cohort stage cohort: remove it"), r.stderr)
        let three = try runPipe(["validate", demo, "--set", "stages.qc.from=[\"clean\", \"connectivity\", \"cohort\"]"])
        XCTAssertEqual(three.status, 2, three.stderr)
        XCTAssertTrue(three.stderr.contains("stages.qc.from: kind 'qc' reads 1 to 2 upstream stage(s), got 3"), three.stderr)
        let ok = try runPipe(["validate", demo])
        XCTAssertEqual(ok.status, 0, ok.stderr)
    }

    /// A run whose censoring leaves fewer than clean's `min_dof` is refused, not failed: the run
    /// goes on, connectivity writes no maps for it, qc excludes it with a row, and each group-level
    /// stage leaves it out with that line, reading the qc stage or not.
    func testARunCensoringLeftTooFewDegreesOfFreedomIsExcludedWithARowNotAFailedRun() throws {
        var (out, args) = try smallDemo((1...10).map { String(format: "%02d", $0) })
        args += ["--set", "stages.qc={\"kind\": \"qc\", \"from\": [\"clean\", \"connectivity\"]}",
                 "--set", "stages.report.motion_scans=10"]
        let first = try runPipe(["run", demo, "--quiet", "--keep-going"] + args)
        XCTAssertEqual(first.status, 0, first.stderr)
        let lines = try String(contentsOf: out.appendingPathComponent("qc/qc.tsv"), encoding: .utf8)
            .split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        let header = lines[0], rows = Array(lines.dropFirst())
        func value(_ row: [String], _ name: String) -> Int { Int(row[header.firstIndex(of: name)!])! }
        // min_dof just above the fewest degrees of freedom of any scan: that scan is censored (the
        // others, uncensored, keep more), so it is refused.
        let dofs = rows.map { value($0, "residual_dof") }.sorted()
        precondition(dofs[0] < dofs[1], "\(dofs)")
        let minimum = dofs[0] + 1
        let refused = rows.first { value($0, "residual_dof") == dofs[0] }!
        XCTAssertGreaterThan(value(refused, "censored_volumes"), 0, "the scan with the fewest degrees of freedom lost volumes to censoring")
        let (subject, session) = (refused[0], refused[1])
        precondition(session == "baseline", "the synthetic cohort is fixed: sub-09's baseline scan is the one")
        let line = "\(subject) ses-\(session): clean_min_dof \(dofs[0]) (threshold \(minimum))"

        let second = try runPipe(["run", demo, "--keep-going", "--set", "stages.clean.min_dof=\(minimum)"] + args)
        XCTAssertEqual(second.status, 0, "a refused scan fails no task:\n\(second.stderr)")
        XCTAssertTrue(second.stderr.contains("qc: 1 of 20 scans excluded: \(subject)_ses-\(session) (clean_min_dof: \(dofs[0]) < \(minimum))"), second.stderr)
        let exclusions = try String(contentsOf: out.appendingPathComponent("qc/exclusions.tsv"), encoding: .utf8).split(separator: "\n").dropFirst()
        XCTAssertEqual(Array(exclusions), ["\(subject)\t\(session)\tn/a\tclean_min_dof\t\(dofs[0])\t\(minimum)"])
        // Connectivity published the refusal for the scan, and no map.
        let published = try FileManager.default.subpathsOfDirectory(atPath: out.appendingPathComponent("connectivity").path)
            .filter { $0.contains("\(subject)_ses-\(session)_") }
        XCTAssertEqual(published.filter { $0.hasSuffix(".nii.gz") }, [])
        XCTAssertEqual(published.filter { $0.hasSuffix("_desc-refused_connectivity.json") }.count, 1, "\(published)")
        // Every group-level summary that would have tested the scan lists it.
        func excluded(_ stage: String) throws -> [String]? {
            let folder = out.appendingPathComponent(stage)
            guard let name = try FileManager.default.contentsOfDirectory(atPath: folder.path).first(where: { $0.hasSuffix("_summary.json") }) else { return nil }
            let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent(name))) as! [String: Any]
            return summary["excluded_by_qc"] as? [String]
        }
        XCTAssertEqual(try excluded("anxiety_baseline"), [line], "anxiety_baseline tests every subject at baseline")
        let report = try String(contentsOf: out.appendingPathComponent("report/index.html"), encoding: .utf8)
        XCTAssertTrue(report.contains("\(subject)_ses-\(session) <small>(refused by clean)</small>") && report.contains("Not cleaned, so no carpet plot: the run leaves \(dofs[0]) residual degrees of freedom"), "the report says why")

        // Without the qc stage, the group stage still leaves the scan out, with the same line.
        let third = try runPipe(["run", demo, "--quiet", "--keep-going", "--set", "stages.clean.min_dof=\(minimum)",
                                 "--set", "stages.anxiety_baseline.from=[\"connectivity\", \"cohort\"]",
                                 "--set", "stages.anxiety_followup.leave_one_out=\"off\""] + args)
        XCTAssertEqual(third.status, 0, third.stderr)
        XCTAssertEqual(try excluded("anxiety_baseline"), [line])
    }

    /// A subject without a scan at a stage's session leaves that stage's test with a line saying
    /// so, in the summary and on the report page: a group stage at baseline names an included
    /// subject whose baseline scan is missing (`no_map_at_session`), a longitudinal stage one
    /// without its day-13 scan (`excluded_one_session`); a stage whose include leaves the subject
    /// out names nobody.
    func testASubjectWithoutAScanAtTheSessionIsNamedWhereItIsLeftOut() throws {
        let (out, args) = try smallDemo(["01", "02", "03", "04", "06", "07", "09"])
        let run = try runPipe(["run", demo, "--quiet", "--set", "cohort.missing_scans=[\"sub-07_ses-baseline\", \"sub-02_ses-day13\"]"] + args)
        XCTAssertEqual(run.status, 0, run.stderr)
        func summary(_ path: String) throws -> [String: Any] {
            try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent(path))) as! [String: Any]
        }
        let anxiety = try summary("anxiety_baseline/group_seed-CMAright_ses-baseline_summary.json")
        XCTAssertEqual(anxiety["no_map_at_session"] as? [String], ["sub-07"], "sub-07 has only a day-13 scan")
        XCTAssertEqual((anxiety["subjects"] as? [String])?.contains("07"), false)
        let responders = try summary("responders_baseline/group_seed-LBAleft_ses-baseline_summary.json")
        XCTAssertEqual(responders["no_map_at_session"] as? [String], [], "sub-07 is not anxious, so not included")
        let change = try summary("responders_change/longitudinal_seed-LBAleft_ses-day13Minusbaseline_summary.json")
        let oneSession = try XCTUnwrap(change["excluded_one_session"] as? [[String: String]])
        XCTAssertEqual(oneSession, [["participant_id": "sub-02", "missing": "day13"]])
        let followup = try summary("anxiety_followup/roi_seed-CMAright_summary.json")
        XCTAssertEqual(followup["no_map_at_pre"] as? [String], ["sub-07"], "sub-07 has a day-13 map but no baseline one")
        let page = try String(contentsOf: out.appendingPathComponent("report/index.html"), encoding: .utf8)
        XCTAssertTrue(page.contains("<p>Not followed up: sub-07 (no map at baseline).</p>"), "the anxiety_followup section")
        XCTAssertTrue(page.contains("<p>Not tested: sub-07 (no map at baseline).</p>"), "the anxiety_baseline section")
        XCTAssertTrue(page.contains("<p>Not tested: sub-02 (no map at day13).</p>"), "the responders_change section")
    }

    /// QC-FC's distances are between the centres of the connectivity stage's own ROIs: with an
    /// atlas given by file and named by its table (not a synth_cohort stage's), every edge has a
    /// distance, each centre is the atlas label's centre of mass (checked with nibabel and
    /// numpy), and the summary has the distance dependence. The qc stage takes no atlas of its own.
    func testQCFCDistancesComeFromTheConnectivityStagesNamedAtlas() throws {
        let python = try crossCheckPython(modules: ["nibabel", "numpy"])
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pipe-qcfc-\(UUID().uuidString.prefix(8))")
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        let subjects = ["01", "02", "03", "04", "05"]
        let synth = try runPipe(["synth", "--out", folder.path, "--subjects"] + subjects.map { "sub-\($0)" })
        XCTAssertEqual(synth.status, 0, synth.stderr)
        let atlas = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("atlas").path)
            .first { $0.hasSuffix("_dseg.nii.gz") })
        let atlasPath = "atlas/" + atlas, tablePath = "atlas/" + atlas.replacingOccurrences(of: ".nii.gz", with: ".tsv")
        func spec(qc: String) throws -> String {
            let url = folder.appendingPathComponent("study.json")
            try """
                {"pipe": 1, "cache": "cache", "outputs": "out",
                 "cohort": {"subjects": [\(subjects.map { "\"\($0)\"" }.joined(separator: ", "))], "sessions": ["baseline", "day13"]},
                 "stages": {
                   "clean": {"kind": "clean", "fmriprep": "derivatives/fmriprep", "confounds": "6P"},
                   "connectivity": {"kind": "connectivity", "from": "clean", "atlas": "\(atlasPath)", "atlas_labels": "\(tablePath)",
                                    "seeds": [{"name": "LBA", "label": "LBA_left"}]},
                   "qc": {"kind": "qc", "from": ["clean", "connectivity"]\(qc)}}}
                """.write(to: url, atomically: true, encoding: .utf8)
            return url.path
        }
        let withAtlas = try runPipe(["validate", try spec(qc: #", "atlas": "\#(atlasPath)""#)])
        XCTAssertEqual(withAtlas.status, 2, withAtlas.stderr)
        XCTAssertTrue(withAtlas.stderr.contains("stages.qc.atlas: QC-FC's distances are between the centres of the connectivity stage's ROIs"), withAtlas.stderr)
        let run = try runPipe(["run", try spec(qc: ""), "--quiet"])
        XCTAssertEqual(run.status, 0, run.stderr)

        // The centres the connectivity stage wrote, against nibabel's reading of the atlas.
        let centroids = try XCTUnwrap(FileManager.default.enumerator(atPath: folder.appendingPathComponent("cache").path)?
            .compactMap { $0 as? String }.first { $0.hasSuffix("_desc-roi_centroids.tsv") })
        let ours = try String(contentsOf: folder.appendingPathComponent("cache").appendingPathComponent(centroids), encoding: .utf8)
        let script = """
            import sys, nibabel as nib, numpy as np
            img = nib.load(sys.argv[1]); d = np.asarray(img.dataobj).round().astype(int)
            lines = [l.split('\\t') for l in open(sys.argv[2]).read().splitlines() if l.strip()]
            i, n = lines[0].index('index'), lines[0].index('name')
            names = {int(l[i]): l[n] for l in lines[1:]}
            for label in sorted(set(d.ravel().tolist()) - {0}):
                xyz = img.affine @ np.append(np.argwhere(d == label).mean(axis=0), 1)
                print(names.get(label, str(label)), *('%.3f' % v for v in xyz[:3]), sep='\\t')
            """
        let reference = try runProcess(python, ["-c", script, folder.appendingPathComponent(atlasPath).path, folder.appendingPathComponent(tablePath).path])
        XCTAssertEqual(reference.status, 0, reference.output)
        func table(_ text: String) -> [String: [Double]] {
            Dictionary(uniqueKeysWithValues: text.split(separator: "\n").compactMap { line -> (String, [Double])? in
                let cells = line.split(separator: "\t").map(String.init)
                let xyz = cells.dropFirst().compactMap(Double.init)
                return cells.count == 4 && xyz.count == 3 ? (cells[0], xyz) : nil
            })
        }
        let written = table(ours), expected = table(reference.output)
        XCTAssertGreaterThan(written.count, 3, ours)
        for (name, xyz) in written {
            let e = try XCTUnwrap(expected[name], "\(name) is not a label of the atlas table")
            XCTAssertEqual(zip(xyz, e).map { abs($0 - $1) }.max()!, 0, accuracy: 0.0015, "\(name): \(xyz) vs nibabel \(e)")
        }

        // Every edge has its distance, and each session its distance dependence.
        let qcfc = try String(contentsOf: folder.appendingPathComponent("out/qc/qcfc.tsv"), encoding: .utf8)
        let rows = qcfc.split(separator: "\n").dropFirst().map { $0.split(separator: "\t").map(String.init) }
        XCTAssertEqual(rows.count, 2 * written.count * (written.count - 1) / 2, qcfc)
        for row in rows {
            let (a, b) = (try XCTUnwrap(written[row[1]]), try XCTUnwrap(written[row[2]]))
            let distance = zip(a, b).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
            XCTAssertEqual(try XCTUnwrap(Double(row[5]), "\(row)"), distance, accuracy: 0.01, "\(row)")
        }
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("out/qc/qc_summary.json"))) as! [String: Any]
        let bySession = try XCTUnwrap(summary["qcfc"] as? [String: [String: Any]])
        XCTAssertEqual(Set(bySession.keys), ["baseline", "day13"])
        for (session, s) in bySession { XCTAssertNotNil(s["distance_dependence_r"] as? Double, "\(session): \(s)") }
    }
}
