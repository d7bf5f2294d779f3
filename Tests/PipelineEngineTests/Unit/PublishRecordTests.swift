import Foundation
import XCTest
@testable import PipelineEngine

/// The record of published files names each by inode and birth time: a file system hands a freed
/// inode number to the next new file (ext4 readily does, once a published file and its cache
/// entry are both gone, or at once when the output folder is on another file system and
/// publishing copies), and a user's file that got the number of a deleted output must not be
/// taken for pipe's and overwritten.
final class PublishRecordTests: XCTestCase {
    private var folder: URL!
    private var cache: CacheStore!
    private var out: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("pipe-record-\(UUID().uuidString.prefix(8))")
        cache = CacheStore(root: folder.appendingPathComponent("cache"))
        try cache.ensureLayout()
        out = folder.appendingPathComponent("out")
        addTeardownBlock { [folder] in try? FileManager.default.removeItem(at: folder!) }
    }

    /// An entry `key` whose output `a.txt` holds `text`.
    private func entry(_ key: String, _ text: String) throws -> (key: String, outputs: [OutputFile]) {
        try FileSystem.makeDirectory(cache.entryPath(key) + "/out")
        try FileSystem.write(Array(text.utf8), to: cache.outputPath(key, "a.txt"))
        return (key, [OutputFile(name: "a.txt", sha256: try FileSystem.sha256(ofFile: cache.outputPath(key, "a.txt")), size: Int64(text.utf8.count))])
    }

    private func publish(_ e: (key: String, outputs: [OutputFile])) throws {
        let publisher = OutputPublisher(cache: cache, outputDirectory: out, study: "s")
        try publisher.publish(stage: "st", entries: [e])
        try publisher.saveRecord()
    }

    private var recordPath: String { OutputPublisher(cache: cache, outputDirectory: out, study: "s").recordPath }

    private func stamp() throws -> (device: UInt64, inode: UInt64, birthNs: Int64?) {
        try XCTUnwrap(DirectoryHandle(path: out.appendingPathComponent("st").path)?.birthStamp("a.txt"))
    }

    func testAUserFileGivenARecordedInodeNumberIsNotPipes() throws {
        try publish(try entry("k1", "first\n"))
        let published = out.appendingPathComponent("st/a.txt")
        let first = try stamp()
        let born = try XCTUnwrap(first.birthNs, "the test's file system (ext4 here) records birth times")
        XCTAssertEqual(String(decoding: try FileSystem.read(recordPath), as: UTF8.self), "st/a.txt\t\(first.inode)\t\(born)\n")

        // The user replaces the output by their own file, and the file system gives it the number
        // the record holds (made here by writing the record with the new file's inode and the
        // published file's birth time).
        try FileManager.default.removeItem(at: published)
        try "mine\n".write(to: published, atomically: false, encoding: .utf8)
        let mine = try stamp()
        XCTAssertNotEqual(mine.birthNs, born)
        try FileSystem.write(Array("st/a.txt\t\(mine.inode)\t\(born)\n".utf8), to: recordPath)
        XCTAssertThrowsError(try publish(try entry("k2", "second\n"))) { error in
            XCTAssertTrue("\(error)".contains("st/a.txt exists and was not published by pipe"), "\(error)")
        }
        XCTAssertEqual(try String(contentsOf: published, encoding: .utf8), "mine\n")

        // A record of an older pipe (inode only) is still read: its file is pipe's, replaced by
        // the next output, and the record is rewritten with the birth time.
        try FileSystem.write(Array("st/a.txt\t\(mine.inode)\n".utf8), to: recordPath)
        try publish(try entry("k3", "third\n"))
        XCTAssertEqual(try String(contentsOf: published, encoding: .utf8), "third\n")
        let now = try stamp()
        XCTAssertEqual(String(decoding: try FileSystem.read(recordPath), as: UTF8.self), "st/a.txt\t\(now.inode)\t\(now.birthNs!)\n")
    }
}
