@testable import Connectivity
import Foundation
import XCTest

/// The spec check's quick look at a confounds file (its header line and row count, no numbers
/// parsed) agrees with the full reader that cleaning uses, whatever the line endings.
final class RunSurveyTests: XCTestCase {
    func testTheConfoundsShapeAgreesWithTheFullReader() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pipe-survey-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let rows = ["n/a\t0.1\t1", "0.2\t0.3\t2", "0.4\tn/a\t3"]
        let cases: [(String, [UInt8])] = [
            ("lf", Array((["csf\ttrans_x\tframewise_displacement"] + rows).joined(separator: "\n").utf8) + [0x0A]),
            ("crlf", Array((["csf\ttrans_x\tframewise_displacement"] + rows).joined(separator: "\r\n").utf8) + [0x0D, 0x0A]),
            ("cr, no final break", Array((["csf\ttrans_x\tframewise_displacement"] + rows).joined(separator: "\r").utf8)),
            ("bom and blank lines at the end", [0xEF, 0xBB, 0xBF] + Array((["csf\ttrans_x\tframewise_displacement"] + rows).joined(separator: "\n").utf8) + Array("\n\n\r\n".utf8)),
            ("one row", Array("a\tb\n1\t2\n".utf8)),
            ("header only", Array("a\tb\n".utf8)),
        ]
        for (name, bytes) in cases {
            let path = dir.appendingPathComponent("\(name).tsv").path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let full = try ConfoundsTable.read(path)
            let shape = try XCTUnwrap(CleanKind.confoundsShape(path), name).get()
            XCTAssertEqual(shape.names, full.names, name)
            XCTAssertEqual(shape.rows, full.rowCount, name)
        }
        // A headerless file (SPM rp_*.txt, a comment first) has the reader's names and rows.
        let headerless = dir.appendingPathComponent("rp.txt").path
        try Data("# motion\n0.1 0.2 0.3\n0.4 0.5 0.6\n".utf8).write(to: URL(fileURLWithPath: headerless))
        let shape = try XCTUnwrap(CleanKind.confoundsShape(headerless)).get()
        XCTAssertEqual(shape.names, ["col_1", "col_2", "col_3"])
        XCTAssertEqual(shape.rows, 2)
        XCTAssertNil(CleanKind.confoundsShape(dir.appendingPathComponent("absent.tsv").path))
        // A short file: the rows are counted, not trusted to the header.
        let short = dir.appendingPathComponent("short.tsv").path
        try Data("a\tb\n1\t2\n3\t4\n5\t6\n".utf8).write(to: URL(fileURLWithPath: short))
        XCTAssertEqual(try CleanKind.confoundsShape(short)?.get().rows, 3)
        // A name twice, which the reader refuses: named, not trusted (a table of it would trap).
        let twice = dir.appendingPathComponent("twice.tsv").path
        try Data("csf\ttrans_x\tcsf\n1\t2\t3\n".utf8).write(to: URL(fileURLWithPath: twice))
        XCTAssertThrowsError(try ConfoundsTable.read(twice))
        XCTAssertEqual(try CleanKind.confoundsShape(twice)?.get().duplicate, "csf")
        // An empty file, and a malformed headerless one: the reader's error.
        let empty = dir.appendingPathComponent("empty.tsv").path
        try Data("\n\n".utf8).write(to: URL(fileURLWithPath: empty))
        XCTAssertThrowsError(try CleanKind.confoundsShape(empty)?.get())
        let ragged = dir.appendingPathComponent("ragged.txt").path
        try Data("0.1 0.2\n0.3\n".utf8).write(to: URL(fileURLWithPath: ragged))
        XCTAssertThrowsError(try ConfoundsTable.read(ragged))
        XCTAssertThrowsError(try CleanKind.confoundsShape(ragged)?.get())
    }
}
