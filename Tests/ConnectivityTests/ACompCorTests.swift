import Foundation
import NIfTI
import PipelineEngine
import TestSupport
import XCTest
@testable import Connectivity

/// aCompCor components chosen by the confounds JSON sidecar (issue 14, defect 8), in fMRIPrep's
/// older layout (one `a_comp_cor_` sequence: combined, then CSF, then WM, in
/// `desc-confounds_regressors.tsv`) and newer one (`a_`, `c_`, `w_comp_cor_` in
/// `desc-confounds_timeseries.tsv`); against nilearn's `load_confounds` (Tests/CrossCheck/compcor_select.py).
final class ACompCorTests: XCTestCase {
    private var folder: URL!
    static let t = 20
    /// Components per mask, and each one's share of its mask's variance.
    static let counts = ["combined": 5, "CSF": 4, "WM": 5]
    static let variance = [0.2, 0.15, 0.1, 0.05, 0.03]

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("pipe-acompcor-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { [folder] in try? FileManager.default.removeItem(at: folder!) }
    }

    /// Writes one layout's run: BOLD image, confounds TSV and its JSON sidecar; returns (bold, tsv).
    private func layout(newer: Bool, sidecar: Bool = true) throws -> (bold: String, confounds: String) {
        let func_ = folder.appendingPathComponent(newer ? "new" : "old").appendingPathComponent("sub-01/func")
        try FileManager.default.createDirectory(at: func_, withIntermediateDirectories: true)
        let bold = func_.appendingPathComponent("sub-01_task-rest_space-MNI152NLin2009cAsym_desc-preproc_bold.nii.gz").path
        try NIfTIFile.write(NIfTIImage(shape: [2, 2, 2, Self.t], affine: Affine(rows: [[2, 0, 0, 0], [0, 2, 0, 0], [0, 0, 2, 0]]),
                                       data: (0..<(8 * Self.t)).map { Float($0 % 7) }, repetitionTime: 2), to: bold)
        var columns = ["global_signal", "csf", "white_matter", "trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z",
                       "cosine00", "cosine01", "t_comp_cor_00", "t_comp_cor_01"]
        var metadata: [String: Any] = ["t_comp_cor_00": ["Method": "tCompCor", "Retained": true], "t_comp_cor_01": ["Method": "tCompCor", "Retained": true],
                                       "dropped_0": ["Method": "aCompCor", "Mask": "combined", "Retained": false]]
        var next = 0
        for (mask, prefix) in [("combined", "a"), ("CSF", "c"), ("WM", "w")] {
            var cumulative = 0.0
            for k in 0..<Self.counts[mask]! {
                let name = newer ? String(format: "%@_comp_cor_%02d", prefix, k) : String(format: "a_comp_cor_%02d", next)
                next += 1
                cumulative += Self.variance[k]
                columns.append(name)
                metadata[name] = ["Method": "aCompCor", "Mask": mask, "VarianceExplained": Self.variance[k],
                                  "CumulativeVarianceExplained": cumulative, "Retained": true, "SingularValue": 10.0 - Double(k)]
            }
        }
        var state: UInt64 = newer ? 5 : 6
        let rows = (0..<Self.t).map { _ in
            columns.map { _ -> String in
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return String(format: "%.6f", Double(state >> 11) / Double(1 << 53) - 0.5)
            }.joined(separator: "\t")
        }
        let tsv = func_.appendingPathComponent("sub-01_task-rest_desc-confounds_\(newer ? "timeseries" : "regressors").tsv").path
        try Data(([columns.joined(separator: "\t")] + rows).joined(separator: "\n").appending("\n").utf8).write(to: URL(fileURLWithPath: tsv))
        if sidecar {
            try JSONSerialization.data(withJSONObject: metadata, options: [.sortedKeys]).write(to: URL(fileURLWithPath: ACompCorSelection.sidecarPath(of: tsv)))
        }
        return (bold, tsv)
    }

    private func select(_ strategy: String, _ tsv: String) throws -> [String] {
        try ConfoundStrategy(strategy).columns(in: try ConfoundsTable.read(tsv))
    }

    func testOlderLayoutNeverTakesAnotherMasksComponents() throws {
        let old = try layout(newer: false)
        XCTAssertEqual(try select("acompcor:5", old.confounds), (0..<5).map { String(format: "a_comp_cor_%02d", $0) })
        // Before: acompcor:7 silently took a_comp_cor_05 and _06, the CSF mask's first components.
        XCTAssertThrowsError(try select("acompcor:7", old.confounds)) {
            XCTAssertTrue("\($0)".contains("the combined mask has 5 aCompCor components; ask for at most 5, or all"), "\($0)")
        }
        XCTAssertEqual(try select("acompcor:separated:2", old.confounds), ["a_comp_cor_05", "a_comp_cor_06", "a_comp_cor_09", "a_comp_cor_10"])
        XCTAssertEqual(try select("acompcor:combined:0.4", old.confounds), ["a_comp_cor_00", "a_comp_cor_01", "a_comp_cor_02"])
        XCTAssertThrowsError(try select("acompcor:combined:0.9", old.confounds)) { XCTAssertTrue("\($0)".contains("less than 0.9"), "\($0)") }
        for bad in ["acompcor:0", "acompcor:1.5", "acompcor:both:3", "acompcor:combined:3:4"] {
            XCTAssertThrowsError(try select(bad, old.confounds)) { XCTAssertTrue("\($0)".contains("expected acompcor["), "\(bad): \($0)") }
        }
        let bare = try layout(newer: true, sidecar: false)
        XCTAssertThrowsError(try select("acompcor:2", bare.confounds)) {
            XCTAssertTrue("\($0)".contains("desc-confounds_timeseries.json") && "\($0)".contains("sidecar is missing"), "\($0)")
        }
    }

    func testSelectionMatchesNilearnLoadConfoundsInBothLayouts() throws {
        let python = try crossCheckPython(modules: ["nilearn", "pandas"])
        let choices: [(String, String, JSONValue)] = [
            ("anat_combined", "combined:3", .number(3)), ("anat_combined", "combined:all", .string("all")), ("anat_combined", "combined:5", .number(5)),
            ("anat_separated", "separated:2", .number(2)), ("anat_separated", "separated:all", .string("all")), ("anat_separated", "separated:4", .number(4)),
            ("anat_combined", "combined:0.4", .number(0.4)), ("anat_separated", "separated:0.3", .number(0.3)),
        ]
        var cases: [JSONValue] = []
        var expected: [(String, String)] = []
        for newer in [false, true] {
            let files = try layout(newer: newer)
            for (compcor, term, n) in choices {
                cases.append(.object(["bold": .string(files.bold), "compcor": .string(compcor), "n_compcor": n]))
                expected.append(("acompcor:" + term, files.confounds))
            }
        }
        let input = folder.appendingPathComponent("cases.json")
        try Data(JSONValue.array(cases).serialized(pretty: false).utf8).write(to: input)
        let result = try runProcess(python, [testPackageRoot.appendingPathComponent("Tests/CrossCheck/compcor_select.py").path, input.path])
        XCTAssertEqual(result.status, 0, result.output)
        let reference = try XCTUnwrap(JSONSerialization.jsonObject(with: Data((result.output.split(separator: "\n").last ?? "").utf8)) as? [Any], result.output)
        XCTAssertEqual(reference.count, expected.count)
        for ((term, tsv), ref) in zip(expected, reference) {
            let what = "\(term) in \(URL(fileURLWithPath: tsv).lastPathComponent)"
            XCTAssertEqual(try select(term, tsv), try XCTUnwrap(ref as? [String], "\(what): \(ref)"), what)
        }
    }
}
