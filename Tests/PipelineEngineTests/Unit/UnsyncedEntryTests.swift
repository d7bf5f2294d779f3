import Foundation
import XCTest
@testable import PipelineEngine

/// Outputs published without fsync record the boot id they were left under
/// (``TaskRunner/unsyncedBoot``). Two rules keep them from costing other results: a store that
/// holds no lock (`pipe plan`) reads such an entry without changing it, and data that a job on
/// another machine will read is made durable first (``CacheStore/makeDurable(_:)``).
final class UnsyncedEntryTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("pipe-unsynced-\(UUID().uuidString.prefix(8))")
        addTeardownBlock { [folder] in try? FileManager.default.removeItem(at: folder!) }
    }

    /// An entry `key` with outputs `kept.txt` (fsynced) and `data.bin` (left unsynced under `boot`).
    private func entry(_ cache: CacheStore, _ key: String, boot: String) throws -> [OutputFile] {
        try cache.ensureLayout()
        try FileSystem.makeDirectory(cache.entryPath(key) + "/out")
        var recorded: [CacheStore.RecordedOutput] = []
        for (name, text) in [("data.bin", "volume bytes\n"), ("kept.txt", "summary\n")] {
            let path = cache.outputPath(key, name)
            try FileSystem.write(Array(text.utf8), to: path)
            let id = try XCTUnwrap(try FileSystem.identity(of: path))
            recorded.append(.init(file: OutputFile(name: name, sha256: try FileSystem.sha256(ofFile: path), size: id.size),
                                  inode: id.inode, mtimeNs: id.mtimeNs, unsyncedBoot: name == "data.bin" ? boot : nil))
        }
        try FileSystem.write(Array(CacheStore.encodeOutputs(recorded).utf8), to: cache.entryPath(key) + "/outputs.tsv")
        try FileSystem.write(Array("{}".utf8), to: cache.entryPath(key) + "/manifest.json")
        return recorded.map(\.file)
    }

    private func list(_ cache: CacheStore, _ key: String) throws -> String {
        String(decoding: try FileSystem.read(cache.entryPath(key) + "/outputs.tsv"), as: UTF8.self)
    }

    func testAStoreWithoutTheLockReadsDataLostInACrashWithoutRemovingIt() throws {
        let root = folder.appendingPathComponent("cache")
        let cache = CacheStore(root: root)
        let outputs = try entry(cache, "k", boot: "00000000-0000-0000-0000-000000000000")
        let before = try list(cache, "k")

        let reader = CacheStore(root: root, readOnly: true)
        XCTAssertEqual(reader.entryState(for: "k"), .dropped(outputs, missing: ["data.bin"]))
        XCTAssertTrue(FileSystem.exists(cache.outputPath("k", "data.bin")), "a read-only store removed a file")
        XCTAssertFalse(FileSystem.exists(cache.entryPath("k") + "/dropped"), "a read-only store wrote a drop marker")
        XCTAssertEqual(try list(cache, "k"), before)

        // The lock holder's store drops it: marker, then the file.
        XCTAssertEqual(cache.entryState(for: "k"), .dropped(outputs, missing: ["data.bin"]))
        XCTAssertFalse(FileSystem.exists(cache.outputPath("k", "data.bin")))
        XCTAssertTrue(FileSystem.exists(cache.entryPath("k") + "/dropped"))
        XCTAssertTrue(FileSystem.exists(cache.outputPath("k", "kept.txt")))
    }

    func testAStoreWithoutTheLockDoesNotRewriteAnOutputList() throws {
        let root = folder.appendingPathComponent("cache")
        let cache = CacheStore(root: root)
        let outputs = try entry(cache, "k", boot: CacheStore.bootID)
        // A copied cache: new inodes, same bytes. The entry is intact; only a writer records the
        // new identities.
        let path = cache.outputPath("k", "kept.txt")
        let bytes = try FileSystem.read(path)
        FileSystem.remove(path)
        try FileSystem.write(bytes, to: path)
        let before = try list(cache, "k")
        XCTAssertEqual(CacheStore(root: root, readOnly: true).entryState(for: "k"), .intact(outputs))
        XCTAssertEqual(try list(cache, "k"), before)
        XCTAssertEqual(cache.entryState(for: "k"), .intact(outputs))
        XCTAssertNotEqual(try list(cache, "k"), before, "the lock holder's store refreshes the identities")
    }

    func testDataLeftUnsyncedOnThisBootIsMadeDurableForAnotherMachine() throws {
        let root = folder.appendingPathComponent("cache")
        let cache = CacheStore(root: root)
        try XCTSkipIf(CacheStore.bootID.isEmpty, "no boot id on this system")
        let outputs = try entry(cache, "mine", boot: CacheStore.bootID)
        XCTAssertTrue(try list(cache, "mine").contains("unsynced\t"))
        XCTAssertTrue(try cache.makeDurable("mine"))
        let durable = try list(cache, "mine")
        XCTAssertFalse(durable.contains("unsynced"), durable)
        XCTAssertEqual(cache.entryState(for: "mine"), .intact(outputs))
        XCTAssertFalse(try cache.makeDurable("mine"), "nothing left to make durable")

        // Data of another boot is the planner's to drop, not to declare durable.
        _ = try entry(cache, "theirs", boot: "00000000-0000-0000-0000-000000000000")
        let before = try list(cache, "theirs")
        XCTAssertFalse(try cache.makeDurable("theirs"))
        XCTAssertEqual(try list(cache, "theirs"), before)
        XCTAssertFalse(try cache.makeDurable("absent"))
    }

    func testMakingAnEntryDurableCanLeaveTheDataDroppedSoonUnsynced() throws {
        let root = folder.appendingPathComponent("cache")
        let cache = CacheStore(root: root)
        try XCTSkipIf(CacheStore.bootID.isEmpty, "no boot id on this system")
        _ = try entry(cache, "k", boot: CacheStore.bootID)
        XCTAssertFalse(try cache.makeDurable("k", keepingUnsynced: { $0 == "data.bin" }), "only the kept data was unsynced")
        XCTAssertEqual(try list(cache, "k").components(separatedBy: "unsynced\t").count, 2)
        XCTAssertTrue(try list(cache, "k").contains("unsynced\t\(CacheStore.bootID)\tdata.bin\n"))
    }

    /// A run syncs what its tasks published unsynced in the background (`DeferredSync`) and
    /// waits for it before it ends: the marks are gone after `wait`, an entry removed meanwhile
    /// is no failure, and one that cannot be synced is reported, its marks kept.
    func testTheBackgroundSyncClearsTheMarksAndReportsAnEntryItCannotSync() throws {
        let root = folder.appendingPathComponent("cache")
        let cache = CacheStore(root: root)
        try XCTSkipIf(CacheStore.bootID.isEmpty, "no boot id on this system")
        let syncer = DeferredSync()
        for key in ["a", "b", "gone"] {
            _ = try entry(cache, key, boot: CacheStore.bootID)
            // Every output unsynced, as a task on the run's machine publishes it.
            try FileSystem.writeAtomically(Array(try list(cache, key).replacingOccurrences(
                of: "\tkept.txt\n", with: "\tkept.txt\nunsynced\t\(CacheStore.bootID)\tkept.txt\n").utf8), to: cache.entryPath(key) + "/outputs.tsv")
        }
        cache.removeEntry("gone")
        syncer.makeDurable("a", in: cache, dropsSoon: { _ in false })
        syncer.makeDurable("gone", in: cache, dropsSoon: { _ in false })
        syncer.makeDurable("b", in: cache, dropsSoon: { $0 == "data.bin" })
        XCTAssertNil(syncer.wait())
        let a = try list(cache, "a")
        XCTAssertFalse(a.contains("unsynced"), a)
        XCTAssertEqual(try list(cache, "b").components(separatedBy: "\n").filter { $0.hasPrefix("unsynced\t") }, ["unsynced\t\(CacheStore.bootID)\tdata.bin"])

        // An entry whose out/ folder is gone cannot be synced: reported, and still marked.
        _ = try entry(cache, "broken", boot: CacheStore.bootID)
        let before = try list(cache, "broken")
        try FileManager.default.removeItem(atPath: cache.entryPath("broken") + "/out")
        syncer.makeDurable("broken", in: cache, dropsSoon: { _ in false })
        let failure = try XCTUnwrap(syncer.wait())
        XCTAssertEqual(failure.code, .io)
        XCTAssertTrue(failure.message.contains("cannot write cache entry broken to disk"), failure.message)
        XCTAssertEqual(try list(cache, "broken"), before)
    }
}
