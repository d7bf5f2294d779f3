import XCTest
@testable import PipelineEngine

final class DigestMemoTests: XCTestCase {
    func testMemoServesUnchangedFilesWithoutReadingThem() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("memo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("big.bin").path
        try Data(repeating: 7, count: 3 << 20).write(to: URL(fileURLWithPath: file))
        let memoPath = dir.appendingPathComponent("digests.tsv").path

        IOCounters.reset()
        let memo = DigestMemo(path: memoPath)
        let d1 = try memo.digest(ofFile: file)
        XCTAssertEqual(IOCounters.bytesHashed, 3 << 20)
        try memo.save()

        // A fresh memo from disk: no byte read.
        let memo2 = DigestMemo(path: memoPath)
        XCTAssertEqual(try memo2.digest(ofFile: file), d1)
        XCTAssertEqual(IOCounters.bytesHashed, 3 << 20)

        // Touch: rehashed, same digest.
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-100)], ofItemAtPath: file)
        XCTAssertEqual(try memo2.digest(ofFile: file), d1)
        XCTAssertEqual(IOCounters.bytesHashed, 2 * (3 << 20))

        // New content of the same size: new digest.
        try Data(repeating: 8, count: 3 << 20).write(to: URL(fileURLWithPath: file))
        XCTAssertNotEqual(try memo2.digest(ofFile: file), d1)
        XCTAssertEqual(try FileSystem.sha256(ofFile: file), try memo2.digest(ofFile: file))
    }
}
