import Foundation
import XCTest

/// `pipe inspect` on the committed scanner-like fixture, compared with what nibabel said of it
/// (Tests/Fixtures/*.expected.json, written by make_fixture.py).
final class InspectCommandTests: XCTestCase {
    let fixture = packageRoot.appendingPathComponent("Tests/Fixtures/sub-01_task-rest_bold.nii.gz").path

    private func expected() throws -> [String: Any] {
        let url = packageRoot.appendingPathComponent("Tests/Fixtures/sub-01_task-rest_bold.expected.json")
        return try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }

    func testJSONSummaryMatchesNibabel() throws {
        let result = try runPipe(["inspect", "--json", fixture])
        XCTAssertEqual(result.status, 0, result.stderr)
        let report = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
        let truth = try expected()
        XCTAssertEqual(report["shape"] as? [Int], truth["shape"] as? [Int])
        XCTAssertEqual(report["datatype"] as? String, "int16")
        XCTAssertEqual(report["byteOrder"] as? String, "big")
        XCTAssertEqual(report["orientation"] as? String, truth["orientation"] as? String)
        XCTAssertEqual(report["repetitionTime"] as! Double, truth["tr_seconds"] as! Double, accuracy: 1e-9)
        XCTAssertEqual(report["sclSlope"] as! Double, 0.1, accuracy: 1e-8)
        XCTAssertEqual(report["sclInter"] as! Double, 5)
        XCTAssertEqual(report["affine"] as? [[Double]], truth["affine"] as? [[Double]])
        XCTAssertEqual(report["min"] as! Double, truth["min"] as! Double, accuracy: 1e-9)
        XCTAssertEqual(report["max"] as! Double, truth["max"] as! Double, accuracy: 1e-9)
        XCTAssertEqual(report["mean"] as! Double, truth["mean"] as! Double, accuracy: 1e-9)
        XCTAssertEqual(report["nanCount"] as? Int, 0)
        let extensions = report["extensions"] as! [[String: Any]]
        XCTAssertEqual(extensions.map { $0["code"] as! Int }, truth["extensions"] as! [Int])
    }

    func testTextSummaryNamesTheEssentials() throws {
        let result = try runPipe(["inspect", fixture])
        XCTAssertEqual(result.status, 0, result.stderr)
        for needle in ["10 x 12 x 10 x 20", "4 x 4 x 4 mm", "TR           2 s (stored in ms)", "int16, scl_slope 0.1, scl_inter 5",
                       "LAS", "sform_code 4 mni152", "big-endian", "comment (code 6"] {
            XCTAssertTrue(result.stdout.contains(needle), "missing '\(needle)' in:\n\(result.stdout)")
        }
    }

    /// A bad file among good ones: the good ones are reported, the error names the bad file, exit 1.
    func testBadFileGivesClearErrorAndExitStatus1() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pipe-inspect-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let bad = folder.appendingPathComponent("broken.nii.gz")
        try Data("this is not gzip".utf8).write(to: bad)
        let result = try runPipe(["inspect", fixture, bad.path])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stdout.contains("10 x 12 x 10 x 20"))
        XCTAssertTrue(result.stderr.contains(bad.path) && result.stderr.contains("not a gzip file"), result.stderr)
    }
}
