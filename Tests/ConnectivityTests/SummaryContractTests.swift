import Foundation
import XCTest
@testable import Connectivity

/// What the group stage writes and the roi stage reads is one type, `GroupSummary`, written and
/// read through `OutputJSON`: a round trip keeps every field, and a renamed or missing field is an
/// error naming the file and the field.
final class SummaryContractTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("pipe-contracts-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { [folder] in try? FileManager.default.removeItem(at: folder!) }
    }

    private func summary() -> GroupSummary {
        let cluster = ClusterSummary(id: 1, sign: -1, sizeVoxels: 12, mass: 30.5, pFWE: 0.01, peakMNI: [-24, 2, -20], peakLabel: "Amygdala")
        let contrast = ContrastSummary(contrast: "anxious > nonanxious", weights: [1, -1, 0], columns: ["anxious", "nonanxious", "age"],
                                       subjects: 20, df: 17, voxels: 900, permutations: 500, exhaustive: false, clusterThresholdT: 3.6,
                                       maxAbsT: 5.2, minPFWEMaxT: 0.02, minPFWETFCE: nil, minPFWECluster: 0.01, significantVoxelsTFCE: nil,
                                       significantVoxelsMaxT: 4, clusters: 3, significantClusters: [cluster])
        let permuted = FTestSummary(contrasts: ["anxious - nonanxious", "age"], dfn: 2, dfd: 17, maxF: 9.5,
                                    permutation: .init(permutations: 500, exhaustive: false, clusterThresholdF: 10.6, minPFWEMaxF: 0.2,
                                                       minPFWECluster: nil, minPFWETFCE: 0.3, significantVoxels: 0))
        let parametric = FTestSummary(contrasts: ["anxious", "nonanxious"], dfn: 2, dfd: 17, maxF: 40,
                                      notPermuted: "not done: no relabeling changes it; parametric maps only")
        return GroupSummary(seed: "CMAright", session: "baseline", subjects: ["01", "02", "03"], filledValues: 0,
                            design: .init(GroupDesign.Spec(group: "group", covariates: ["age"])), clusterP: 0.001, maskCoverage: 1,
                            resample: .none, twoSided: true, connectivity: .faces, contrasts: [contrast], fTests: [permuted, parametric],
                            grf: [GRFSummary(contrast: "anxious > nonanxious", zThreshold: 2.3, alpha: 0.05, fwhmVoxels: [2, 2.5, 2],
                                             reselSize: 10, significantClusters: 1)],
                            maps: nil)
    }

    private func write(_ bytes: [UInt8], _ name: String) throws -> URL {
        let url = folder.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url
    }

    func testTheRoiStageReadsWhatTheGroupStageWrites() throws {
        let written = summary()
        let url = try write(try OutputJSON.encode(written, name: "group_summary.json"), "group_seed-CMAright_ses-baseline_summary.json")
        XCTAssertEqual(try ROIKind.groupSummary(at: url), written)

        // The field names other tools read, and `null` (not a missing key) for inference not run.
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        XCTAssertNil(object["maps"])
        XCTAssertEqual(object["connectivity"] as? Int, 6)
        XCTAssertEqual(object["resample"] as? String, "none")
        XCTAssertTrue((object["design"] as! [String: Any])["group"] as? String == "group")
        let contrast = (object["contrasts"] as! [[String: Any]])[0]
        XCTAssertTrue(contrast["min_p_fwe_tfce"] is NSNull)
        XCTAssertNil(contrast["group"])
        XCTAssertEqual((contrast["significant_clusters"] as! [[String: Any]])[0]["peak_mni"] as? [Double], [-24, 2, -20])
        // An F-test's permutation fields sit beside its own; without permutation, only the reason.
        let tests = object["f_tests"] as! [[String: Any]]
        XCTAssertEqual(tests[0]["cluster_threshold_F"] as? Double, 10.6)
        XCTAssertTrue(tests[0]["min_p_fwe_cluster"] is NSNull)
        XCTAssertNil(tests[0]["permutation"])
        XCTAssertEqual(tests[1]["permutation"] as? String, "not done: no relabeling changes it; parametric maps only")
        XCTAssertNil(tests[1]["permutations"])
    }

    func testARenamedOrMissingFieldNamesTheFileAndTheField() throws {
        let text = String(decoding: try OutputJSON.encode(summary(), name: "summary.json"), as: UTF8.self)
        let renamed = try write(Array(text.replacingOccurrences(of: "\"significant_clusters\" : [", with: "\"clusters_significant\" : [").utf8),
                                "renamed_summary.json")
        XCTAssertThrowsError(try ROIKind.groupSummary(at: renamed)) { error in
            XCTAssertEqual("\(error)", "\(renamed.path): cannot be read as a group stage summary: missing key 'contrasts[0].significant_clusters'")
        }
        let mistyped = try write(Array(text.replacingOccurrences(of: "\"two_sided\" : true", with: "\"two_sided\" : \"yes\"").utf8),
                                 "mistyped_summary.json")
        XCTAssertThrowsError(try ROIKind.groupSummary(at: mistyped)) { error in
            XCTAssertEqual("\(error)", "\(mistyped.path): cannot be read as a group stage summary: 'two_sided' is not a Bool")
        }
        let absent = folder.appendingPathComponent("absent_summary.json")
        XCTAssertThrowsError(try ROIKind.groupSummary(at: absent)) { error in
            XCTAssertEqual("\(error)", "\(absent.path): cannot be read as a group stage summary: No such file or directory")
        }
    }

    func testROIPredictionIsEitherFittedOrANote() throws {
        let fitted = ROISummary.Prediction.fitted(.init(column: "responder", positive: "responder", session: "baseline", direction: "higher", auc: 0.75,
                                                        ci95: [0.5, 1], permutationP: 0.04, values: "fixed region values",
                                                        inSampleAUCCircular: nil))
        let note = ROISummary.Prediction.notFitted(note: "needs values in both classes")
        for prediction in [fitted, note] {
            let bytes = try OutputJSON.encode(prediction, name: "roi_summary.json")
            XCTAssertEqual(try JSONDecoder().decode(ROISummary.Prediction.self, from: Data(bytes)), prediction)
        }
        XCTAssertEqual(String(decoding: try OutputJSON.encode(note, name: "x"), as: UTF8.self),
                       "{\n  \"note\" : \"needs values in both classes\"\n}")
        XCTAssertTrue(String(decoding: try OutputJSON.encode(fitted, name: "x"), as: UTF8.self).contains("\"in_sample_auc_circular\" : null"))
    }
}
