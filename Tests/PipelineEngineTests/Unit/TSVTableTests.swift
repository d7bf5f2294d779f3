import Foundation
import XCTest
@testable import PipelineEngine

/// The one TSV reader: line ends, byte order mark, blank lines, ragged rows, line numbers.
final class TSVTableTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("pipe-tsv-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { [folder] in try? FileManager.default.removeItem(at: folder!) }
    }

    /// Writes `bytes` to a file and reads it back as a table.
    private func table(_ bytes: [UInt8], keepingBlankLines: Bool = false) throws -> TSVTable {
        let url = folder.appendingPathComponent("t\(UUID().uuidString.prefix(6)).tsv")
        try Data(bytes).write(to: url)
        return try TSVTable.read(url.path, keepingBlankLines: keepingBlankLines)
    }

    private let lf = Array("participant_id\tgroup\nsub-01\tanxious\nsub-02\tn/a\n".utf8)

    func testLFReadsHeaderAndRowsWithLineNumbers() throws {
        let t = try table(lf)
        XCTAssertEqual(t.header, ["participant_id", "group"])
        XCTAssertEqual(t.headerLine, 1)
        XCTAssertEqual(Array(t.rows), [.init(line: 2, cells: ["sub-01", "anxious"]), .init(line: 3, cells: ["sub-02", "n/a"])])
    }

    func testCRLFAndByteOrderMarkAndLoneCRReadAsLF() throws {
        let reference = try table(lf)
        let crlf = Array("participant_id\tgroup\r\nsub-01\tanxious\r\nsub-02\tn/a\r\n".utf8)
        XCTAssertEqual(try table(crlf), reference)
        XCTAssertEqual(try table([0xEF, 0xBB, 0xBF] + crlf), reference)
        XCTAssertEqual(try table([0xEF, 0xBB, 0xBF] + lf), reference)
        // Classic Mac line ends, and a last line without any line end.
        XCTAssertEqual(try table(Array("participant_id\tgroup\rsub-01\tanxious\rsub-02\tn/a".utf8)), reference)
        // The mark is only dropped at the start: the header's first cell is not "\u{FEFF}participant_id".
        XCTAssertEqual(try table([0xEF, 0xBB, 0xBF] + crlf).header.first?.unicodeScalars.count, "participant_id".count)
    }

    func testTrailingBlankLinesAreIgnoredAndInnerOnesSkippedUnlessKept() throws {
        let text = Array("a\tb\r\n1\t2\r\n\r\n3\t4\r\n\r\n\n\r\n".utf8)
        let skipped = try table(text)
        XCTAssertEqual(skipped.rows.map(\.line), [2, 4])
        XCTAssertEqual(skipped.rows.map(\.cells), [["1", "2"], ["3", "4"]])
        let kept = try table(text, keepingBlankLines: true)
        XCTAssertEqual(kept.rows.map(\.line), [2, 3, 4])
        XCTAssertEqual(kept.rows.map(\.cells), [["1", "2"], [""], ["3", "4"]])
    }

    func testRaggedRowsAndEmptyCellsAreKeptAsTheyAre() throws {
        let t = try table(Array("a\tb\tc\n1\n1\t\t\n\t2\t3\t4\n x \tn/a\t\n".utf8))
        XCTAssertEqual(t.rows.map(\.cells), [["1"], ["1", "", ""], ["", "2", "3", "4"], [" x ", "n/a", ""]])
        XCTAssertEqual(t.rows.map(\.line), [2, 3, 4, 5])
    }

    func testEmptyFilesHaveNoHeader() throws {
        for bytes: [UInt8] in [[], [0xEF, 0xBB, 0xBF], Array("\r\n\n".utf8)] {
            let t = try table(bytes, keepingBlankLines: true)
            XCTAssertTrue(t.isEmpty)
            XCTAssertEqual(t.header, [])
            XCTAssertEqual(t.headerLine, 0)
        }
    }

    func testAnUnreadableFileNamesThePathAndTheReason() throws {
        let missing = folder.appendingPathComponent("absent.tsv").path
        XCTAssertThrowsError(try TSVTable.read(missing)) { error in
            XCTAssertEqual("\(error)", "cannot read \(missing): No such file or directory")
        }
        XCTAssertThrowsError(try TSVTable.read(folder.path)) { error in
            XCTAssertEqual((error as? TSVTable.ReadError)?.reason, "it is a directory, not a regular file")
        }
    }

    func testLatin1TextIsRefusedAtItsLineAndUTF8IsRead() throws {
        // "Zürich" in Latin-1 (0xFC) on line 3; the same in UTF-8 reads as itself.
        let latin1: [UInt8] = Array("participant_id\tsite\nsub-01\tBern\nsub-02\tZ".utf8) + [0xFC] + Array("rich\n".utf8)
        let url = folder.appendingPathComponent("participants.tsv")
        try Data(latin1).write(to: url)
        XCTAssertThrowsError(try TSVTable.read(url.path)) { error in
            XCTAssertEqual("\(error)", "cannot read \(url.path): line 3 is not UTF-8 text (a Latin-1 or Windows export?); save the file as UTF-8")
        }
        try Data("participant_id\tsite\nsub-01\tBern\nsub-02\tZürich\n".utf8).write(to: url)
        XCTAssertEqual(try TSVTable.read(url.path).rows.last?.cells, ["sub-02", "Zürich"])
    }
}
