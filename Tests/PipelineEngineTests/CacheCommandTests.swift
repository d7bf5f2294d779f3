import Foundation
import XCTest

/// End-to-end: cache ls/du/gc/verify, atomic entries and the cohort table.
final class CacheCommandTests: XCTestCase {
    func makeStudy(_ name: String) throws -> Study {
        let s = try Study(name)
        try s.writeScans(subjects: ["01", "02", "03"], sessions: ["1", "2"])
        try s.writeStandardSpec(subjects: ["01", "02", "03"])
        return s
    }

    func testVerifyRemovesCorruptEntriesAndTheRerunRecomputesOnlyThem() throws {
        let s = try makeStudy("verify")
        try s.runOK()
        _ = s.takeExecutions()
        let ok = try s.tool("cache", "verify", "$SPEC")
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertTrue(ok.stdout.contains("verified 22 entries: 22 ok, 0 corrupt"), ok.stdout)
        // Corrupt one output of the `scaled sub-01_ses-1` entry.
        let cache = s.dir.appendingPathComponent("cache")
        let plan = try s.tool("plan", "$SPEC", "--json")
        let items = try JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as! [[String: Any]]
        let key = items.first { $0["stage"] as? String == "scaled" && $0["scope"] as? String == "sub-01_ses-1" }!["key"] as! String
        let file = cache.appendingPathComponent("tasks/\(key)/out/sub-01_ses-1.txt")
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file.path)
        try FileManager.default.removeItem(at: file)
        try "999\n".write(to: file, atomically: false, encoding: .utf8)
        let bad = try s.tool("cache", "verify", "$SPEC")
        XCTAssertEqual(bad.status, 1)
        // What was built from the corrupt entry goes too: verify cannot tell when the bytes changed.
        XCTAssertTrue(bad.stdout.contains("verified 22 entries: 18 ok, 1 corrupt, 3 built from removed entries (removed)"), bad.stdout)
        XCTAssertTrue(bad.stdout.contains("output sub-01_ses-1.txt has digest"), bad.stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: cache.appendingPathComponent("tasks/\(key)").path))
        try s.runOK()
        XCTAssertEqual(s.takeExecutions(), ["test.clamp sub-01_ses-1", "test.scale sub-01_ses-1", "test.subject sub-01", "test.sum group"])
    }

    func testEntryWithoutManifestDoesNotExist() throws {
        let s = try makeStudy("nomanifest")
        try s.runOK()
        _ = s.takeExecutions()
        let cache = s.dir.appendingPathComponent("cache")
        let tasks = try FileManager.default.contentsOfDirectory(atPath: cache.appendingPathComponent("tasks").path)
        // Remove the manifest of every raw entry (as if a kill hit before it was written).
        var removed = 0
        for k in tasks {
            let m = cache.appendingPathComponent("tasks/\(k)/manifest.json")
            let text = try String(contentsOf: m, encoding: .utf8)
            if text.contains("\"kind\": \"test.read\"") { try FileManager.default.removeItem(at: m); removed += 1 }
        }
        XCTAssertEqual(removed, 6)
        // Leftover temp folders are cleaned by the next run.
        try FileManager.default.createDirectory(at: cache.appendingPathComponent("tmp/leftover.1/out"), withIntermediateDirectories: true)
        try s.runOK()
        XCTAssertEqual(s.takeExecutions().count, 6)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: cache.appendingPathComponent("tmp").path), [])
    }

    func testGcKeepsWhatTheStudiesNeed() throws {
        let s = try makeStudy("gc")
        try s.runOK()
        try s.runOK("--set", "stages.scaled.factor=5")
        _ = s.takeExecutions()
        let ls = try s.tool("cache", "ls", "$SPEC")
        XCTAssertEqual(ls.stdout.split(separator: "\n").count, 22 + 16)
        let du = try s.tool("cache", "du", "$SPEC")
        XCTAssertTrue(du.stdout.contains("38 entries"), du.stdout)
        let gc = try s.tool("cache", "gc", "$SPEC")
        XCTAssertEqual(gc.status, 0, gc.stderr)
        XCTAssertTrue(gc.stdout.contains("kept 22 entries; removed 16 entries"), gc.stdout)
        try s.runOK()
        XCTAssertEqual(s.takeExecutions(), [], "everything the study needs survived gc")
        try s.runOK("--set", "stages.scaled.factor=5")
        XCTAssertEqual(s.takeExecutions().count, 16)

        // The digest memo forgets files (versions) no study uses any more.
        let memo = s.dir.appendingPathComponent("cache/digests.tsv")
        func memoLines() throws -> Int { try String(contentsOf: memo, encoding: .utf8).split(separator: "\n").count }
        XCTAssertEqual(try memoLines(), 6)
        try s.writeData("sub-01_ses-1.txt", "9 9 9\n")
        XCTAssertEqual(try s.tool("plan", "$SPEC").status, 0)
        XCTAssertEqual(try memoLines(), 7)
        XCTAssertEqual(try s.tool("cache", "gc", "$SPEC").status, 0)
        XCTAssertEqual(try memoLines(), 6)
    }

    func testCacheAndOutputFoldersFromTheSpecAndTheCommandLine() throws {
        let s = try Study("folders")
        try s.writeScans(subjects: ["01", "02"], sessions: ["1"])
        try s.writeStandardSpec(subjects: ["01", "02"], sessions: ["1"],
                                extraTop: "\n  \"cache\": \"../shared-cache\", \"outputs\": \"results\",")
        try s.runOK()
        XCTAssertEqual(s.takeExecutions().count, 9)
        XCTAssertTrue(FileManager.default.fileExists(atPath: s.root.appendingPathComponent("shared-cache/tasks").path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: s.dir.appendingPathComponent("cache").path))
        XCTAssertEqual(try s.outputs(in: s.dir.appendingPathComponent("results")).count, 9)
        // --cache-dir wins over the spec: a new, empty cache runs everything again.
        let other = s.root.appendingPathComponent("other-cache")
        try s.runOK("--cache-dir", other.path)
        XCTAssertEqual(s.takeExecutions().count, 9)
        XCTAssertTrue(FileManager.default.fileExists(atPath: other.appendingPathComponent("tasks").path))
        // Published files are hard links to the cache entries, not copies.
        let published = s.dir.appendingPathComponent("results/total/group.txt").path
        let links = try FileManager.default.attributesOfItem(atPath: published)[.referenceCount] as! Int
        XCTAssertGreaterThanOrEqual(links, 2)
    }

    func testCohortFromParticipantsTableWithFilters() throws {
        let s = try Study("table")
        try s.writeScans(subjects: ["01", "02", "03", "04", "05"], sessions: ["1"])
        try """
        participant_id\tgroup\tage
        sub-01\tanxious\t30
        sub-02\tcontrol\t31
        sub-03\tanxious\t32
        sub-04\tanxious\t33
        sub-05\tcontrol\t34

        """.write(to: s.dir.appendingPathComponent("participants.tsv"), atomically: false, encoding: .utf8)
        try s.writeSpec("""
        {"pipe": 1,
         "cohort": {"participants": "participants.tsv", "include": {"group": ["anxious"]},
                    "exclude": {"participant_id": ["sub-04"]}, "sessions": ["1"]},
         "stages": {"raw": {"kind": "test.read", "pattern": "data/sub-{subject}_ses-{session}.txt"},
                    "total": {"kind": "test.sum", "from": ["raw"]}}}
        """)
        let v = try s.tool("validate", "$SPEC")
        XCTAssertEqual(v.status, 0, v.stderr)
        XCTAssertTrue(v.stdout.contains("2 stages, 3 tasks; 2 subjects x 1 session"), v.stdout)
        try s.runOK()
        XCTAssertEqual(s.takeExecutions(), ["test.read sub-01_ses-1", "test.read sub-03_ses-1", "test.sum group"])
        // A new cohort is an edit of the table: sub-05 joins the anxious group.
        let table = try String(contentsOf: s.dir.appendingPathComponent("participants.tsv"), encoding: .utf8)
        try table.replacingOccurrences(of: "sub-05\tcontrol", with: "sub-05\tanxious")
            .write(to: s.dir.appendingPathComponent("participants.tsv"), atomically: false, encoding: .utf8)
        try s.runOK()
        XCTAssertEqual(s.takeExecutions(), ["test.read sub-05_ses-1", "test.sum group"])
        // A bad filter column is named with a suggestion.
        let bad = try s.tool("validate", "$SPEC", "--set", "cohort.include={\"grup\": [\"anxious\"]}")
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.stderr.contains("cohort.include.grup: participants.tsv has no column 'grup' (did you mean 'group'?)"), bad.stderr)
    }
}
