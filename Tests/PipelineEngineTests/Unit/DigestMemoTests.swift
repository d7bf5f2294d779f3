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

    func testHashAheadGivesTheSerialDigestsReadingEachFileOnce() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("memo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var files: [(path: String, identity: FileSystem.FileIdentity)] = []
        for (i, size) in [5 << 20, 0, 1, 3 << 20, 70_001, 2 << 20].enumerated() {
            let path = dir.appendingPathComponent("f\(i).bin").path
            try Data((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ i) }).write(to: URL(fileURLWithPath: path))
            // A hard link is the same file: hashed once. (Linking changes the file's ctime, so
            // the identities are taken after.)
            if i == 0 { try FileManager.default.linkItem(atPath: path, toPath: dir.appendingPathComponent("link.bin").path) }
            files.append((path, try XCTUnwrap(FileSystem.identity(of: path))))
        }
        let link = dir.appendingPathComponent("link.bin").path
        files.append((link, try XCTUnwrap(FileSystem.identity(of: link))))
        XCTAssertEqual(files.last!.identity, files[0].identity)
        // A file that changed since the planner saw it, and one that is gone: left to lookup.
        let changed = dir.appendingPathComponent("changed.bin").path
        try Data(repeating: 1, count: 4096).write(to: URL(fileURLWithPath: changed))
        let before = try XCTUnwrap(FileSystem.identity(of: changed))
        try Data(repeating: 2, count: 8192).write(to: URL(fileURLWithPath: changed))
        let gone = dir.appendingPathComponent("gone.bin").path
        try Data(repeating: 3, count: 100).write(to: URL(fileURLWithPath: gone))
        let goneIdentity = try XCTUnwrap(FileSystem.identity(of: gone))
        try FileManager.default.removeItem(atPath: gone)

        IOCounters.reset()
        let memo = DigestMemo(path: dir.appendingPathComponent("digests.tsv").path)
        memo.hashAhead(files + [(changed, before), (gone, goneIdentity)], workers: 3)
        let distinct = [5 << 20, 0, 1, 3 << 20, 70_001, 2 << 20].reduce(0, +)
        XCTAssertEqual(IOCounters.bytesHashed, UInt64(distinct + 8192))
        XCTAssertEqual(memo.count, 6)
        for f in files {
            XCTAssertEqual(try memo.lookup(ofFile: f.path, identity: f.identity).digest, try FileSystem.sha256(ofFile: f.path), f.path)
        }
        // Every lookup was served from the memo (sha256(ofFile:) above is not counted).
        XCTAssertEqual(IOCounters.bytesHashed, UInt64(distinct + 8192))
        XCTAssertThrowsError(try memo.lookup(ofFile: gone, identity: goneIdentity))
        let now = try XCTUnwrap(FileSystem.identity(of: changed))
        XCTAssertEqual(try memo.lookup(ofFile: changed, identity: now).digest, try FileSystem.sha256(ofFile: changed))
        XCTAssertEqual(IOCounters.bytesHashed, UInt64(distinct + 2 * 8192))
    }
}
