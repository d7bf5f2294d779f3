import Foundation
import NIfTI
import XCTest

/// The group stage's F-tests and GRF option on a small demo cohort: an F-test of one contrast
/// equals t², parametrically and under permutation, and the GRF ("as published") option reports a
/// plausible smoothness and its clusters.
final class GroupOptionsTests: XCTestCase {
    func testFTestAndGRFOptions() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pipe-group-options-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("out")
        var args = ["run", packageRoot.appendingPathComponent("pipelines/demo.json").path, "--quiet",
                    "--cache-dir", folder.appendingPathComponent("cache").path, "--set", "outputs=\(out.path)",
                    "--set", "cohort.subjects=[\"01\",\"04\",\"06\",\"07\",\"09\",\"13\"]",
                    "--set", "stages.anxiety_baseline.f_tests=[[\"anxious - nonanxious\"], [\"anxious\", \"nonanxious\"]]",
                    "--set", "stages.anxiety_baseline.grf_z=2.3"]
        for stage in ["responders_baseline", "anxiety_baseline", "improvement_baseline", "responders_change"] {
            args += ["--set", "stages.\(stage).permutations=100"]
        }
        args += ["--set", "stages.responders_change.paired=[\"all\"]"]
        let result = try runPipe(args)
        XCTAssertEqual(result.status, 0, result.stderr)

        let stage = out.appendingPathComponent("anxiety_baseline")
        let t = try NIfTIFile.read(stage.appendingPathComponent("group_seed-CMAright_ses-baseline_contrast-anxiousGtnonanxious_stat-t_statmap.nii.gz").path)
        let f = try NIfTIFile.read(stage.appendingPathComponent("group_seed-CMAright_ses-baseline_ftest-1_stat-F_statmap.nii.gz").path)
        var compared = 0
        for (tv, fv) in zip(t.data, f.data) where tv != 0 {
            XCTAssertEqual(Double(fv), Double(tv) * Double(tv), accuracy: 1e-4 * max(1, Double(tv * tv)))
            compared += 1
        }
        XCTAssertGreaterThan(compared, 10_000)
        XCTAssertTrue(FileManager.default.fileExists(atPath: stage.appendingPathComponent("group_seed-CMAright_ses-baseline_ftest-2_stat-z_statmap.nii.gz").path))

        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: stage.appendingPathComponent("group_seed-CMAright_ses-baseline_summary.json"))) as! [String: Any]
        // The cluster-mass FWE map holds −log10 p: its maximum is −log10 of the smallest cluster p.
        let contrast = (summary["contrasts"] as! [[String: Any]])[0]
        let clusterMap = try NIfTIFile.read(stage.appendingPathComponent("group_seed-CMAright_ses-baseline_contrast-anxiousGtnonanxious_stat-logpFWE_desc-cluster_statmap.nii.gz").path)
        let minClusterP = try XCTUnwrap(contrast["min_p_fwe_cluster"] as? Double)
        XCTAssertEqual(Double(clusterMap.data.max() ?? -1), -log10(minClusterP), accuracy: 1e-5)
        let grf = (summary["grf"] as! [[String: Any]])[0]
        let fwhm = grf["fwhm_voxels"] as! [Double]
        // 6 mm smoothing on a 4 mm grid plus the data's own smoothness: between 1 and 6 voxels.
        XCTAssertTrue(fwhm.allSatisfy { $0 > 1 && $0 < 6 }, "\(fwhm)")
        XCTAssertTrue((grf["note"] as? String)?.contains("as published") ?? false)
        let tests = summary["f_tests"] as! [[String: Any]]
        XCTAssertEqual(tests.map { $0["dfn"] as! Int }, [1, 2])
        // The permutation F of one contrast is the two-sided permutation t test: the same seed gives
        // the same relabelings, so its max-F FWE p equals the contrast's max-T FWE p voxel by voxel.
        let maxF = try NIfTIFile.read(stage.appendingPathComponent("group_seed-CMAright_ses-baseline_ftest-1_stat-logpFWE_desc-maxF_statmap.nii.gz").path)
        let maxT = try NIfTIFile.read(stage.appendingPathComponent("group_seed-CMAright_ses-baseline_contrast-anxiousGtnonanxious_stat-logpFWE_desc-maxT_statmap.nii.gz").path)
        XCTAssertEqual(maxF.data, maxT.data)
        // Over 20 relabelings every FWE p is k/20, and the peak voxel's is below 1.
        for value in Set(maxF.data) {
            let k = pow(10, -Double(value)) * 20
            XCTAssertEqual(k, k.rounded(), accuracy: 1e-3, "FWE p \(pow(10, -Double(value))) is not a multiple of 1/20")
        }
        XCTAssertGreaterThan(maxF.data.max() ?? 0, 0, "the peak voxel's FWE p should be below 1")
        // 3 anxious vs 3 non-anxious: all C(6, 3) = 20 relabelings, as for the t test.
        XCTAssertEqual(tests[0]["permutations"] as? Int, 20)
        XCTAssertEqual(tests[0]["permutations"] as? Int, (summary["contrasts"] as! [[String: Any]])[0]["permutations"] as? Int)
        XCTAssertTrue(FileManager.default.fileExists(atPath: stage.appendingPathComponent("group_seed-CMAright_ses-baseline_ftest-1_stat-logpFWE_desc-tfce_statmap.nii.gz").path))
        // Both group means jointly: no relabeling changes them, so only the parametric maps.
        XCTAssertTrue((tests[1]["permutation"] as? String)?.hasPrefix("not done") ?? false, "\(tests[1])")
        XCTAssertTrue(FileManager.default.fileExists(atPath: stage.appendingPathComponent("group_seed-CMAright_ses-baseline_contrast-anxiousGtnonanxious_desc-grfClusters.tsv").path))
    }
}
