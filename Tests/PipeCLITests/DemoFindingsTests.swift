import Foundation
import XCTest

/// The whole demo study (pipelines/demo.json, 49 subjects x 2 sessions) run by the built binary:
/// its group analyses find the planted effects at FWE < 0.05 with the default method (TFCE
/// permutation inference), each as one cluster in the planted region. 1000 permutations instead
/// of 5000 keep the test short; the method is the same.
final class DemoFindingsTests: XCTestCase {
    func testDemoFindsThePlantedEffects() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pipe-demo-findings-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("out")
        let stages = ["responders_baseline", "anxiety_baseline", "improvement_baseline"]
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
    }
}
