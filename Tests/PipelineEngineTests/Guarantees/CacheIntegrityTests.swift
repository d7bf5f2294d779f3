import Foundation
import XCTest

/// End-to-end: a cache entry is served only for the bytes its key was computed from (issue 12,
/// defects 3, 4, 11, 12 and 13).
final class CacheIntegrityTests: XCTestCase {
    func makeStudy(_ name: String, subjects: [String] = ["01", "02"]) throws -> Study {
        let s = try Study(name)
        try s.writeScans(subjects: subjects, sessions: ["1"])
        try s.writeStandardSpec(subjects: subjects, sessions: ["1"])
        return s
    }

    /// Outputs of a fresh study with the same data and spec, for comparison.
    func freshOutputs(subjects: [String] = ["01", "02"], factor: Double = 2) throws -> [String: Data] {
        let f = try makeStudy("fresh", subjects: subjects)
        try f.writeStandardSpec(subjects: subjects, sessions: ["1"], factor: factor)
        try f.runOK()
        return try f.outputs()
    }

    func testASourceChangedWhileATaskRunsStoresNothingUnderTheOldKey() throws {
        let s = try makeStudy("changing")
        let handshake = s.root.appendingPathComponent("handshake")
        try FileManager.default.createDirectory(at: handshake, withIntermediateDirectories: true)
        let errFile = s.root.appendingPathComponent("stderr.txt")
        let run = try ToolHarness.start(["run", s.spec.path, "--jobs", "1", "--keep-going"],
                                        env: s.env.merging(["PIPE_TEST_HANDSHAKE_DIR": handshake.path,
                                                            "PIPE_TEST_HANDSHAKE_SCOPE": "sub-01_ses-1"]) { $1 },
                                        stderr: errFile)
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: handshake.appendingPathComponent("ready").path) && Date() < deadline { usleep(2_000) }
        // The plan hashed both sources; sub-01's task is running, sub-02's has not started.
        try s.writeData("sub-01_ses-1.txt", "100 200 300 400\n")
        try s.writeData("sub-02_ses-1.txt", "5 6 7 8\n")
        FileManager.default.createFile(atPath: handshake.appendingPathComponent("go").path, contents: nil)
        run.waitUntilExit()
        let stderr = try String(contentsOf: errFile, encoding: .utf8)
        XCTAssertEqual(run.terminationStatus, 1, stderr)
        XCTAssertTrue(stderr.contains("raw sub-01_ses-1: ") && stderr.contains("data/sub-01_ses-1.txt changed while the run was in progress"), stderr)
        XCTAssertTrue(stderr.contains("raw sub-02_ses-1: ") && stderr.contains("data/sub-02_ses-1.txt changed while the run was in progress"), stderr)
        XCTAssertEqual(try s.entries(of: "raw"), [:], "nothing stored under keys planned from the old bytes")

        // Back to the original bytes: the run computes from them, identical to a fresh study.
        try s.writeScans(subjects: ["01", "02"], sessions: ["1"])
        try s.runOK()
        XCTAssertEqual(try s.outputs(), try freshOutputs())
        let verify = try s.tool("cache", "verify", "$SPEC")
        XCTAssertEqual(verify.status, 0, verify.stdout)
    }

    func testAWorkerRefusesASourceThatChangedSincePlanning() throws {
        let s = try makeStudy("workersource")
        try s.runOK()
        let key = try s.entries(of: "raw")["sub-01_ses-1"]!
        try FileManager.default.removeItem(at: s.cache.appendingPathComponent("tasks/\(key)"))
        try s.writeData("sub-01_ses-1.txt", "9 9 9 9\n")
        let r = try s.tool("worker", "--cache", s.cache.path, key)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("sub-01_ses-1.txt changed while the run was in progress"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: s.cache.appendingPathComponent("tasks/\(key)").path))
        // The same bytes again (a new inode and times): rehashed, accepted.
        try s.writeScans(subjects: ["01", "02"], sessions: ["1"])
        let ok = try s.tool("worker", "--cache", s.cache.path, key)
        XCTAssertEqual(ok.status, 0, ok.stderr)
    }

    func testADamagedEntryIsRecomputedWithAWarningAndNeverConsumed() throws {
        let s = try makeStudy("damaged")
        try s.runOK()
        let rawKey = try s.entries(of: "raw")["sub-01_ses-1"]!
        let cached = s.cache.appendingPathComponent("tasks/\(rawKey)/out/sub-01_ses-1.txt").path
        // One changed byte in a cached output, then a parameter edit downstream.
        try s.tamper(cached, with: "9")
        let plan = try s.tool("plan", "$SPEC", "--set", "stages.scaled.factor=3")
        XCTAssertTrue(plan.stdout.contains("cache entry damaged (output sub-01_ses-1.txt was changed after it was written"), plan.stdout)
        _ = s.takeExecutions()
        let r = try s.tool("run", "$SPEC", "--set", "stages.scaled.factor=3")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("warning: raw sub-01_ses-1: cache entry \(rawKey.prefix(12)) is damaged"), r.stderr)
        XCTAssertTrue(s.takeExecutions().contains("test.read sub-01_ses-1"))
        var expected = try freshOutputs(factor: 3)
        XCTAssertEqual(try s.outputs(), expected)

        // An in-place edit of a published output (a hard link into the cache), size changed.
        let published = s.dir.appendingPathComponent("out/scaled/sub-02_ses-1.txt").path
        chmod(published, 0o644)
        try "42\n".write(toFile: published, atomically: false, encoding: .utf8)
        let again = try s.tool("run", "$SPEC", "--set", "stages.scaled.factor=3")
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("warning: scaled sub-02_ses-1: cache entry"), again.stderr)
        XCTAssertTrue(again.stderr.contains("bytes, the entry recorded"), again.stderr)
        expected = try freshOutputs(factor: 3)
        XCTAssertEqual(try s.outputs(), expected)
    }

    func testATamperedUpstreamThatKeepsItsTimesFailsTheConsumerAndIsRecomputed() throws {
        // Same size and modification time (root can do this): the stat check cannot see it, but a
        // task rehashes small inputs before reading them.
        let s = try makeStudy("tampered")
        try s.runOK()
        let rawKey = try s.entries(of: "raw")["sub-01_ses-1"]!
        try s.tamper(s.cache.appendingPathComponent("tasks/\(rawKey)/out/sub-01_ses-1.txt").path, with: "8", keepModificationTime: true)
        let r = try s.tool("run", "$SPEC", "--quiet", "--set", "stages.scaled.factor=3")
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("cannot read upstream raw sub-01_ses-1: output sub-01_ses-1.txt was changed after it was written; the damaged entry was removed"), r.stderr)
        try s.runOK("--set", "stages.scaled.factor=3")
        XCTAssertEqual(try s.outputs(), try freshOutputs(factor: 3))
    }

    func testVerifyRemovesCorruptEntriesAndEverythingBuiltFromThemAndExitsOne() throws {
        let s = try makeStudy("verify")
        try s.runOK()
        let rawKey = try s.entries(of: "raw")["sub-01_ses-1"]!
        let before = try s.outputs()
        try s.tamper(s.cache.appendingPathComponent("tasks/\(rawKey)/out/sub-01_ses-1.txt").path, with: "8", keepModificationTime: true)
        let r = try s.tool("cache", "verify", "$SPEC")
        XCTAssertEqual(r.status, 1, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("removed corrupt entry \(rawKey.prefix(16))"), r.stdout)
        // Downstream of sub-01: scaled, clamped, subj sub-01, total.
        XCTAssertEqual(r.stdout.components(separatedBy: "whose entry is gone or differs").count - 1, 4, r.stdout)
        XCTAssertTrue(r.stdout.contains("verified 9 entries: 4 ok, 1 corrupt, 4 built from removed entries (removed)"), r.stdout)
        XCTAssertTrue(r.stdout.contains("rebuilt the source-digest memo from 2 source files"), r.stdout)
        _ = s.takeExecutions()
        try s.runOK()
        XCTAssertEqual(s.takeExecutions(), ["test.clamp sub-01_ses-1", "test.read sub-01_ses-1", "test.scale sub-01_ses-1",
                                            "test.subject sub-01", "test.sum group"])
        XCTAssertEqual(try s.outputs(), before)
        let clean = try s.tool("cache", "verify", "$SPEC")
        XCTAssertEqual(clean.status, 0, clean.stdout)
    }

    func testAWrongDigestInTheMemoIsNotTrusted() throws {
        let s = try makeStudy("memo")
        try s.runOK()
        let memo = s.cache.appendingPathComponent("digests.tsv")
        let text = try String(contentsOf: memo, encoding: .utf8)
        var lines = text.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 2)
        // Replace a line's digest with another file's (an edit that keeps the line well formed).
        var a = lines[0].split(separator: "\t").map(String.init), b = lines[1].split(separator: "\t").map(String.init)
        XCTAssertEqual(a.count, 7)
        swap(&a[5], &b[5])
        lines = [a.joined(separator: "\t"), b.joined(separator: "\t")]
        try (lines.joined(separator: "\n") + "\n").write(to: memo, atomically: false, encoding: .utf8)
        let plan = try s.tool("plan", "$SPEC")
        XCTAssertEqual(plan.status, 0)
        XCTAssertFalse(plan.stdout.contains("input changed"), plan.stdout)
        XCTAssertTrue(plan.stdout.contains("9 cached"), plan.stdout)
        _ = s.takeExecutions()
        try s.runOK()
        XCTAssertEqual(s.takeExecutions(), [])
    }

    func testAWorkerRefusesAnEditedTaskDescription() throws {
        let s = try makeStudy("worker")
        try s.runOK()
        let key = try s.entries(of: "scaled")["sub-01_ses-1"]!
        let description = s.cache.appendingPathComponent("specs/\(key).json")
        let text = try String(contentsOf: description, encoding: .utf8)
        XCTAssertTrue(text.contains("\"factor\": 2"), text)
        try text.replacingOccurrences(of: "\"factor\": 2", with: "\"factor\": 5").write(to: description, atomically: false, encoding: .utf8)
        try FileManager.default.removeItem(at: s.cache.appendingPathComponent("tasks/\(key)"))
        _ = s.takeExecutions()
        let r = try s.tool("worker", "--cache", s.cache.path, key)
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("does not hash to its key"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: s.cache.appendingPathComponent("tasks/\(key)").path))
        XCTAssertEqual(s.takeExecutions().filter { $0.hasPrefix("test.scale") }, [])
        // A missing description names what writes one.
        let missing = try s.tool("worker", "--cache", s.cache.path, String(repeating: "0", count: 64))
        XCTAssertTrue(missing.stderr.contains("`pipe run` writes one just before it starts the task"), missing.stderr)
    }
}
