import Foundation
import NIfTI
import XCTest
import TestSupport

/// Output headers say what the maps are, and in which space, as the input said it: statistical
/// maps carry NIfTI intent codes with their degrees of freedom, and every map the input's
/// coordinate-system code (a scanner-space input is not relabelled MNI). Read back with nibabel.
final class MapHeaderTests: XCTestCase {
    func testIntentCodesAndTheInputsSpaceCodeRoundTripThroughNibabel() throws {
        let python = try crossCheckPython(modules: ["nibabel"])
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pipe-headers-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("maps"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        // Ten subjects' maps in scanner space (sform and qform code 1).
        var table = "participant_id\tpath\n", participants = "participant_id\tgroup\tage\n"
        for n in 1...10 {
            let data = (0..<120).map { v in Float(1 + (n <= 5 && v < 8 ? 3 : 0)) + Float((n * 37 + v * 11) % 17) / 17 }
            let name = "maps/sub-\(n)_z.nii.gz"
            try NIfTIFile.write(NIfTIImage(shape: [6, 5, 4], affine: MapsStudyTests.affine, data: data, code: 1),
                                to: folder.appendingPathComponent(name).path)
            table += "sub-\(n)\t\(name)\n"
            participants += "sub-\(n)\t\(n <= 5 ? "a" : "b")\t\(30 + (n * 7) % 13)\n"
        }
        try table.write(to: folder.appendingPathComponent("maps.tsv"), atomically: true, encoding: .utf8)
        try participants.write(to: folder.appendingPathComponent("participants.tsv"), atomically: true, encoding: .utf8)
        let spec = folder.appendingPathComponent("study.json")
        try """
        {"pipe": 1, "cache": "cache", "outputs": "out", "cohort": {"participants": "participants.tsv"},
         "stages": {"diff": {"kind": "group", "maps": "maps.tsv", "participants": "participants.tsv", "group": "group",
                             "covariates": ["age"], "contrasts": ["a > b"], "f_tests": [["a - b", "age"]], "permutations": 200}}}
        """.write(to: spec, atomically: true, encoding: .utf8)
        let run = try runPipe(["run", spec.path, "--quiet"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let stem = folder.appendingPathComponent("out/diff/group_maps-maps").path
        let script = """
            import nibabel as nib, sys
            for path in sys.argv[1:]:
                h = nib.load(path).header
                code, params, name = h.get_intent()
                print(int(h["sform_code"]), int(h["qform_code"]), int(h["intent_code"]), ",".join("%g" % p for p in params), name)
            """
        let files = ["_contrast-aGtb_stat-t_statmap", "_contrast-aGtb_stat-z_statmap", "_contrast-aGtb_stat-logp_statmap",
                     "_contrast-aGtb_stat-effect_statmap", "_contrast-aGtb_desc-clusters_dseg", "_ftest-1_stat-F_statmap"].map { stem + $0 + ".nii.gz" }
        let result = try runProcess(python, ["-c", script] + files)
        XCTAssertEqual(result.status, 0, result.output)
        let lines = result.output.split(separator: "\n").map(String.init)
        // 10 subjects, 3 design columns (a, b, age): 7 residual degrees of freedom.
        XCTAssertEqual(lines, ["1 1 3 7 t", "1 1 5  z", "1 1 0  -log10 p", "1 1 1001  estimate", "1 1 1002  label", "1 1 4 2,7 F"], result.output)
    }
}
