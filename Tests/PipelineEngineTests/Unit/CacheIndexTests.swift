import Foundation
import XCTest
@testable import PipelineEngine

/// A study's per-stage index (scope → latest key, for `plan`'s explanations): updated with a run's
/// keys, keeping scopes the run did not name, and left alone when a run changed nothing.
final class CacheIndexTests: XCTestCase {
    func testUpdateMergesKeepsOtherScopesAndSkipsUnchangedWrites() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("index-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let cache = CacheStore(root: dir)
        try cache.ensureLayout()
        try cache.updateIndex(study: "s", stage: "raw", [("sub-2", "k2"), ("sub-1", "k1"), ("sub-3", "k3")])
        XCTAssertEqual(cache.readIndex(study: "s", stage: "raw"), ["sub-1": "k1", "sub-2": "k2", "sub-3": "k3"])

        // A smaller cohort with one new key: the others are kept, after the run's, sorted.
        try cache.updateIndex(study: "s", stage: "raw", [("sub-2", "k2b")])
        XCTAssertEqual(cache.readIndex(study: "s", stage: "raw"), ["sub-1": "k1", "sub-2": "k2b", "sub-3": "k3"])
        let file = dir.appendingPathComponent("index/s/raw.tsv")
        XCTAssertTrue(FileManager.default.fileExists(atPath: file.path), "the index lives at index/<study>/<stage>.tsv")
        XCTAssertEqual(try String(contentsOf: file, encoding: .utf8), "sub-2\tk2b\nsub-1\tk1\nsub-3\tk3\n")

        // The same keys again: not rewritten (same inode; a rewrite renames a new file in).
        let before = try FileSystem.identity(of: file.path)
        try cache.updateIndex(study: "s", stage: "raw", [("sub-2", "k2b")])
        XCTAssertEqual(try FileSystem.identity(of: file.path)?.inode, before?.inode)
        try cache.updateIndex(study: "s", stage: "raw", [("sub-2", "k2b"), ("sub-1", "k1"), ("sub-3", "k3")])
        XCTAssertEqual(try FileSystem.identity(of: file.path)?.inode, before?.inode, "all three named, as they stand")
        try cache.updateIndex(study: "s", stage: "raw", [("sub-2", "k2c")])
        XCTAssertNotEqual(try FileSystem.identity(of: file.path)?.inode, before?.inode)
        XCTAssertEqual(cache.readIndex(study: "s", stage: "raw")["sub-2"], "k2c")
    }
}
