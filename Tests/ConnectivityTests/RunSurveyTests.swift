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

    /// The survey's verdict on each cell agrees with cleaning's: a file it finds a cell in that is
    /// neither a number nor n/a is one the reader refuses, and a column it finds unusable (after
    /// the dummy scans: n/a after a number, an infinite value, no number) is one `selecting`
    /// refuses, on files of cells drawn from the forms a confounds file may hold.
    func testTheSurveysCellCheckAgreesWithTheReaderAndSelecting() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pipe-survey-cells-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let numbers = ["1", "-2.5", "+.5", "3.", "0.000123", "1e5", "1E-07", "-4.5e+03", "12345678901234567890123456789012345", "1e400",
                       "inf", "-Infinity", "0x1p3", "nan", "NaN", "n/a", ""]
        let invalid = ["abc", "1.2.3", " 1", "1e", "e5", ".", "-", "N/A", "1,5", "1e5x"]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ n: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(n))
        }
        var refused = 0, unusable = 0, usable = 0
        for file in 0..<300 {
            let columns = 3, rows = 5
            var lines = ["a\tb\tc"]
            for _ in 0..<rows {
                lines.append((0..<columns).map { _ in
                    // Mostly plain numbers and n/a, sometimes another form, rarely an invalid cell.
                    switch next(20) {
                    case 0: return invalid[next(invalid.count)]
                    case 1...5: return numbers[next(numbers.count)]
                    case 6...8: return "n/a"
                    default: return String(Double(next(2000) - 1000) / 8)
                    }
                }.joined(separator: "\t"))
            }
            let path = dir.appendingPathComponent("\(file).tsv").path
            try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: false, encoding: .utf8)
            for dummyScans in 0...2 {
                let shape = try XCTUnwrap(CleanKind.confoundsShape(path, dummyScans: dummyScans)).get()
                let name = "\(lines.joined(separator: " | ")), dummy scans \(dummyScans)"
                guard let table = try? ConfoundsTable.read(path) else {
                    XCTAssertNotNil(shape.invalidCell, "the reader refuses \(name)")
                    refused += 1
                    continue
                }
                XCTAssertNil(shape.invalidCell.map { "\($0)" }, name)
                let trimmed = try ScanLoader.trimmed(table, path: path, bold: "bold", total: rows, dummyScans: dummyScans)
                for column in ["a", "b", "c"] {
                    let selectable = (try? trimmed.selecting([column])) != nil
                    XCTAssertEqual(shape.unusable[column] == nil, selectable, "column \(column) of \(name): \(shape.unusable)")
                    if selectable { usable += 1 } else { unusable += 1 }
                }
            }
        }
        // Each verdict occurred (the cases are not all of one kind).
        XCTAssertGreaterThan(refused, 50)
        XCTAssertGreaterThan(unusable, 100)
        XCTAssertGreaterThan(usable, 100)
        // The line and column of the first invalid cell, and the first line a column fails at.
        let path = dir.appendingPathComponent("named.tsv").path
        try "a\tb\n1\tn/a\n2\t3\nn/a\tx1\n4\tn/a\n".write(toFile: path, atomically: false, encoding: .utf8)
        let shape = try CleanKind.confoundsShape(path)!.get()
        XCTAssertEqual(shape.invalidCell?.line, 4)
        XCTAssertEqual(shape.invalidCell?.column, "b")
        XCTAssertEqual(shape.invalidCell?.text, "x1")
        XCTAssertEqual(shape.unusable.mapValues(\.line), ["a": 4, "b": 5])
        XCTAssertEqual(shape.unusable["a"]?.reason, .missingAfterNumber)
    }

    /// The same on headerless files (SPM's `rp_*.txt`): every cell is a number to the reader, `nan`
    /// and `inf` too, so the survey classifies each column, and each motion column derived from
    /// them (`trans_x_derivative1`, ...), as `selecting` takes it, and names the file's line.
    func testTheSurveysColumnCheckAgreesWithSelectingOnHeaderlessFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pipe-survey-rp-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let odd = ["nan", "NaN", "inf", "-inf", "1e400"]
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        func next(_ n: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(n))
        }
        var unusable = 0, usable = 0
        for file in 0..<200 {
            let rows = 5
            var lines = ["# realignment"]
            for _ in 0..<rows {
                lines.append((0..<6).map { _ in next(12) == 0 ? odd[next(odd.count)] : String(Double(next(2000) - 1000) / 64) }.joined(separator: "  "))
            }
            let path = dir.appendingPathComponent("rp_\(file).txt").path
            try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: false, encoding: .utf8)
            let table = try ConfoundsTable.read(path)
            XCTAssertEqual(table.names.count, 24)
            for dummyScans in 0...2 {
                let shape = try XCTUnwrap(CleanKind.confoundsShape(path, dummyScans: dummyScans)).get()
                let name = "\(lines.joined(separator: " | ")), dummy scans \(dummyScans)"
                let trimmed = try ScanLoader.trimmed(table, path: path, bold: "bold", total: rows, dummyScans: dummyScans)
                for column in table.names {
                    let selectable = (try? trimmed.selecting([column])) != nil
                    XCTAssertEqual(shape.unusable[column] == nil, selectable, "column \(column) of \(name): \(shape.unusable)")
                    if selectable { usable += 1 } else { unusable += 1 }
                }
            }
        }
        XCTAssertGreaterThan(unusable, 500)
        XCTAssertGreaterThan(usable, 500)
        // The line named is the file's: the comment is line 1, so row 3 is line 4.
        let path = dir.appendingPathComponent("rp_named.txt").path
        try "# motion\n1 2 3 4 5 6\n1 2 3 4 5 6\n1 nan 3 4 5 inf\n1 2 3 4 5 6\n".write(toFile: path, atomically: false, encoding: .utf8)
        let shape = try CleanKind.confoundsShape(path)!.get()
        XCTAssertEqual(shape.unusable["trans_y"]?.line, 4)
        XCTAssertEqual(shape.unusable["trans_y"]?.reason, .missingAfterNumber)
        XCTAssertEqual(shape.unusable["rot_z"]?.line, 4)
        XCTAssertEqual(shape.unusable["rot_z"]?.reason, .infinite, "inf is named as such")
        XCTAssertEqual(shape.unusable["trans_y_derivative1"]?.line, 4)
        XCTAssertNil(shape.unusable["trans_x"])
        XCTAssertNil(shape.unusable["trans_x_derivative1"])
    }
}
