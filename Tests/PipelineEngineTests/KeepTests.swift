import Foundation
import XCTest

/// End-to-end: `keep: false` drops an intermediate stage's data once everything that reads it is
/// cached, keeps its manifest so that nothing downstream reruns, and recomputes it (the same
/// bytes) only when a task that must run needs it.
final class KeepTests: XCTestCase {
    func spec(_ s: Study, clampMax: Double = 1000, keepScaled: Bool = false) throws {
        try s.writeSpec("""
        {"pipe": 1, "cohort": {"subjects": ["01", "02", "03"], "sessions": ["1", "2"]},
         "stages": {"raw": {"kind": "test.read", "pattern": "data/sub-{subject}_ses-{session}.txt"},
                    "scaled": {"kind": "test.scale", "from": "raw", "factor": 2\(keepScaled ? "" : ", \"keep\": false")},
                    "clamped": {"kind": "test.clamp", "from": "scaled", "max": \(clampMax)},
                    "subj": {"kind": "test.subject", "from": "clamped"}}}
        """)
    }

    /// The entries of `stage` whose data was dropped, and the bytes their outputs recorded.
    func dropped(_ s: Study, _ stage: String) throws -> (count: Int, bytes: Int) {
        var count = 0, bytes = 0
        for key in try s.entries(of: stage).values {
            let entry = s.cache.appendingPathComponent("tasks/\(key)")
            guard FileManager.default.fileExists(atPath: entry.appendingPathComponent("dropped").path) else { continue }
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: entry.appendingPathComponent("out").path), [], "dropped data left in \(key)")
            count += 1
            let marker = try String(contentsOf: entry.appendingPathComponent("dropped"), encoding: .utf8).split(separator: "\n")
            XCTAssertEqual(marker.count, 2, "the marker names the one output dropped")
            bytes += marker.first.flatMap { Int($0) } ?? -1
        }
        return (count, bytes)
    }

    func testDroppedDataKeepsDownstreamCachedAndIsRecomputedWhenNeeded() throws {
        let s = try Study("keep")
        try s.writeScans(subjects: ["01", "02", "03"], sessions: ["1", "2"])
        try spec(s)
        try s.runOK()
        XCTAssertEqual(s.takeExecutions().count, 6 + 6 + 6 + 3)
        let first = try dropped(s, "scaled")
        XCTAssertEqual(first.count, 6, "every scaled entry dropped once clamped read it")
        XCTAssertGreaterThan(first.bytes, 0)
        XCTAssertEqual(try dropped(s, "clamped").count, 0, "stages that keep their data keep it")
        XCTAssertFalse(try s.outputs().keys.contains { $0.hasPrefix("scaled/") }, "a keep: false stage is not published")
        let du = try s.tool("cache", "du", "--json", "--cache-dir", s.cache.path)
        let usage = try JSONSerialization.jsonObject(with: Data(du.stdout.utf8)) as? [String: Any]
        XCTAssertEqual((usage?["dropped"] as? [String: Any])?["bytes"] as? Int, first.bytes, du.stdout)
        XCTAssertEqual((usage?["dropped"] as? [String: Any])?["entries"] as? Int, 6)

        // Nothing downstream reruns, and the dropped data is not recomputed.
        let plan = try s.tool("plan", "$SPEC")
        XCTAssertTrue(plan.stdout.contains("21 tasks: 21 cached, 0 to run"), plan.stdout)
        try s.runOK()
        XCTAssertEqual(s.takeExecutions(), [])
        XCTAssertEqual(try s.lastRunSummary()["cached"] as? Int, 21)

        // A change below: clamped must run, so scaled is recomputed first, with the same bytes
        // (same keys), and dropped again afterwards.
        let scaledKeys = try s.entries(of: "scaled")
        try spec(s, clampMax: 5)
        let r = try s.runOK("--json")
        let ex = s.takeExecutions()
        XCTAssertEqual(ex.filter { $0.hasPrefix("test.scale ") }.count, 6, "\(ex)")
        XCTAssertEqual(ex.filter { $0.hasPrefix("test.clamp ") }.count, 6)
        XCTAssertEqual(ex.filter { $0.hasPrefix("test.read ") }.count, 0, "raw keeps its data")
        XCTAssertTrue(r.stdout.contains("its data was dropped (keep: false)"), r.stdout)
        XCTAssertEqual(try s.entries(of: "scaled"), scaledKeys, "recomputed with the same keys")
        XCTAssertEqual(try dropped(s, "scaled").count, 6)
        let summary = try s.lastRunSummary()
        XCTAssertEqual((summary["executed"] as? Int ?? 0) + (summary["cached"] as? Int ?? 0), 21, "each task counted once")

        // The same outputs as a study that keeps everything.
        let kept = try Study("keep-reference")
        try kept.writeScans(subjects: ["01", "02", "03"], sessions: ["1", "2"])
        try spec(kept, clampMax: 5, keepScaled: true)
        try kept.runOK()
        XCTAssertEqual(try s.outputs(), try kept.outputs().filter { !$0.key.hasPrefix("scaled/") })

        // A change above recomputes the scan it touches; verify leaves dropped entries alone.
        try s.writeData("sub-02_ses-1.txt", "9 9 9 9\n")
        try s.runOK()
        XCTAssertEqual(s.takeExecutions().sorted(), ["test.clamp sub-02_ses-1", "test.read sub-02_ses-1", "test.scale sub-02_ses-1", "test.subject sub-02"])
        let verify = try s.tool("cache", "verify", "--cache-dir", s.cache.path)
        XCTAssertEqual(verify.status, 0, verify.stdout + verify.stderr)
        let newKeys = try s.entries(of: "scaled")
        XCTAssertNotEqual(newKeys["sub-02_ses-1"], scaledKeys["sub-02_ses-1"])
        XCTAssertEqual(try dropped(s, "scaled").count, 6, "the new entry is dropped too")
        XCTAssertTrue(FileManager.default.fileExists(atPath: s.cache.appendingPathComponent("tasks/\(scaledKeys["sub-02_ses-1"]!)/dropped").path),
                      "verify leaves the old dropped entry as it was")
    }

    /// A run drops each entry as soon as its readers are done, not at its end, and starts a
    /// reader of a `keep: false` stage before the next task of that stage: on one job, no more
    /// than one `scaled` entry holds its data at any time. A task that reads none of the dropped
    /// files (`notes`, a group task, as `qc` of `clean`) is not waited for. The files are deleted
    /// off the control loop, all of them by the time the run ends.
    func testEachEntryIsDroppedOnceItsReadersAreDoneAndReadersGoFirst() throws {
        let s = try Study("keep-prompt")
        try s.writeScans(subjects: ["01", "02", "03"], sessions: ["1", "2"])
        try s.writeSpec("""
        {"pipe": 1, "cohort": {"subjects": ["01", "02", "03"], "sessions": ["1", "2"]},
         "stages": {"raw": {"kind": "test.read", "pattern": "data/sub-{subject}_ses-{session}.txt"},
                    "scaled": {"kind": "test.scale", "from": "raw", "factor": 2, "keep": false},
                    "clamped": {"kind": "test.clamp", "from": "scaled", "max": 1000},
                    "notes": {"kind": "test.notes", "from": ["scaled"], "title": "n"},
                    "subj": {"kind": "test.subject", "from": "clamped"}}}
        """)
        let r = try s.runOK("--json", "--jobs", "1")
        let events = r.stdout.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }.filter { ["started", "finished", "dropped"].contains($0["event"] as? String) }
        let steps = events.map { "\($0["event"]!) \($0["stage"]!) \(($0["scope"] as? String) ?? "")" }
        var holding = Set<String>(), most = 0
        for e in events where e["stage"] as? String == "scaled" {
            let scope = e["scope"] as? String ?? ""
            switch e["event"] as? String {
            case "finished": holding.insert(scope)
            case "dropped": XCTAssertNotNil(holding.remove(scope), "dropped before it was made: \(steps)")
            default: break
            }
            most = max(most, holding.count)
        }
        XCTAssertEqual(holding, [], "every scaled entry dropped during the run: \(steps)")
        XCTAssertEqual(most, 1, "one entry's data at a time on one job: \(steps)")
        for (i, step) in steps.enumerated() where step.hasPrefix("finished scaled ") {
            let scope = step.dropFirst("finished scaled ".count)
            XCTAssertEqual(steps[i + 1], "started clamped \(scope)", "the reader starts next: \(steps)")
        }
        let dropped = events.filter { $0["event"] as? String == "dropped" }
        XCTAssertEqual(dropped.count, 6)
        XCTAssertEqual(dropped.map { $0["bytes"] as? Int ?? 0 }.reduce(0, +), try self.dropped(s, "scaled").bytes)
        let tmp = try FileManager.default.contentsOfDirectory(atPath: s.cache.appendingPathComponent("tmp").path)
        XCTAssertEqual(tmp, [], "the dropped files are deleted before the run ends")
    }

    /// A `keep: false` stage whose tasks share an entry with another stage's (the same kind,
    /// parameters and input, so the same key; the other stage keeping its data or not): the entry
    /// is kept until the readers of both are done (such stages drop at the end of the run). On two jobs, with
    /// `blocker` holding one slot until the test opens its gate, `twin` waits for `scaled`'s run
    /// of the key and both are done at once; `clamped` then runs alone, and `clamped_twin` after
    /// it must still find the data.
    func testAnEntrySharedByTwoStagesIsKeptUntilBothAreRead() throws {
        for twinKeeps in [false, true] {
            try sharedEntry(twinKeeps: twinKeeps)
        }
    }

    func sharedEntry(twinKeeps: Bool) throws {
        let s = try Study("keep-shared-\(twinKeeps)")
        try s.writeScans(subjects: ["01"], sessions: ["1"])
        let gate = s.dir.appendingPathComponent("gate")
        try s.writeSpec("""
        {"pipe": 1, "cohort": {"subjects": ["01"], "sessions": ["1"]},
         "stages": {"raw": {"kind": "test.read", "pattern": "data/sub-{subject}_ses-{session}.txt"},
                    "scaled": {"kind": "test.scale", "from": "raw", "factor": 2, "keep": false},
                    "twin": {"kind": "test.scale", "from": "raw", "factor": 2\(twinKeeps ? "" : ", \"keep\": false")},
                    "blocker": {"kind": "test.slow", "from": "raw", "ms": 0, "gate": "\(gate.path)"},
                    "clamped": {"kind": "test.clamp", "from": "scaled", "max": 1000},
                    "clamped_twin": {"kind": "test.clamp", "from": "twin", "max": 5}}}
        """)
        let log = s.dir.appendingPathComponent("run.json")
        let p = try ToolHarness.start(["run", s.spec.path, "--json", "--jobs", "2"], env: s.env, stdout: log)
        var events: [[String: Any]] = []
        let deadline = Date().addingTimeInterval(60)
        func twinDone() -> Bool {
            events.contains { ["finished", "failed"].contains($0["event"] as? String) && $0["stage"] as? String == "clamped_twin" }
        }
        while Date() < deadline && p.isRunning && !twinDone() {
            usleep(20_000)
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            events = text.split(separator: "\n").compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
        }
        try Data().write(to: gate)
        p.waitUntilExit()
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        events = text.split(separator: "\n").compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
        XCTAssertEqual(p.terminationStatus, 0, (try? String(contentsOf: log, encoding: .utf8)) ?? "")
        let steps = events.compactMap { e in
            ["started", "finished", "cached", "dropped", "failed"].contains(e["event"] as? String) ? "\(e["event"]!) \(e["stage"]!)" : nil
        }
        XCTAssertTrue(twinDone(), "\(steps)")
        XCTAssertFalse(steps.contains("failed clamped_twin"), "\(steps)")
        XCTAssertTrue(steps.contains("cached twin"), "twin waited for scaled's run of their key: \(steps)")
        XCTAssertLessThan(steps.firstIndex(of: "finished clamped") ?? .max, steps.firstIndex(of: "started clamped_twin") ?? -1,
                          "clamped_twin started after clamped was done: \(steps)")
        if twinKeeps {
            // The entry is twin's data too: it stays whole, and twin is published from it.
            XCTAssertEqual(steps.filter { $0.hasPrefix("dropped") }.count, 0, "\(steps)")
            XCTAssertEqual(try dropped(s, "scaled").count, 0)
            let published = try s.outputs()
            XCTAssertNotNil(published["twin/sub-01_ses-1.txt"], "\(published.keys.sorted())")
        } else {
            XCTAssertEqual(steps.filter { $0.hasPrefix("dropped") }.count, 1, "\(steps)")
            XCTAssertGreaterThan(steps.firstIndex { $0.hasPrefix("dropped") } ?? -1, steps.firstIndex(of: "finished clamped_twin") ?? .max,
                                 "dropped once both readers were done: \(steps)")
            XCTAssertEqual(try dropped(s, "scaled").count, 1)
        }
    }

    /// A restore of dropped data cut short by a kill after its files were back, before its marker
    /// went: the entry is intact (its files checked as any entry's, so nothing reruns), and
    /// `cache du` no longer counts its data as dropped.
    func testARestoreCutShortBeforeItsMarkerWentCountsAsKept() throws {
        let s = try Study("keep-cut")
        try s.writeScans(subjects: ["01", "02", "03"], sessions: ["1", "2"])
        try spec(s)
        try s.runOK()
        let all = try dropped(s, "scaled")
        XCTAssertEqual(all.count, 6)
        // The same entry, kept, in a study that keeps scaled: the bytes a restore moves back.
        let kept = try Study("keep-cut-reference")
        try kept.writeScans(subjects: ["01", "02", "03"], sessions: ["1", "2"])
        try spec(kept, keepScaled: true)
        try kept.runOK()
        let key = try XCTUnwrap(try s.entries(of: "scaled")["sub-01_ses-1"])
        XCTAssertEqual(try kept.entries(of: "scaled")["sub-01_ses-1"], key)
        let marker = try String(contentsOf: s.cache.appendingPathComponent("tasks/\(key)/dropped"), encoding: .utf8)
        let from = kept.cache.appendingPathComponent("tasks/\(key)/out"), to = s.cache.appendingPathComponent("tasks/\(key)/out")
        for name in try FileManager.default.contentsOfDirectory(atPath: from.path) {
            try FileManager.default.copyItem(at: from.appendingPathComponent(name), to: to.appendingPathComponent(name))
        }

        let du = try s.tool("cache", "du", "--json", "--cache-dir", s.cache.path)
        let usage = try JSONSerialization.jsonObject(with: Data(du.stdout.utf8)) as? [String: Any]
        XCTAssertEqual((usage?["dropped"] as? [String: Any])?["entries"] as? Int, 5, du.stdout)
        XCTAssertEqual((usage?["dropped"] as? [String: Any])?["bytes"] as? Int, all.bytes - Int(marker.split(separator: "\n")[0])!, du.stdout)
        let plan = try s.tool("plan", "$SPEC")
        XCTAssertTrue(plan.stdout.contains("21 tasks: 21 cached, 0 to run"), plan.stdout)
        XCTAssertEqual(try s.tool("cache", "verify", "--cache-dir", s.cache.path).status, 0)
    }

    /// A stage that drops only its bulk outputs (`test.annotate` keeps its note) serves a reader
    /// that needs only what it kept (`test.notes`) without being recomputed, on the local and the
    /// worker executor; a reader of the dropped data still has it recomputed, in place, and a
    /// reader of both (`notes` also reads `sum`) is released once. An older marker (bytes only:
    /// everything dropped) and a kept file gone missing are recomputed too.
    func testKeptOutputsServeReadersThatNeedNoDroppedData() throws {
        let scans = ["sub-01_ses-1", "sub-01_ses-2", "sub-02_ses-1", "sub-02_ses-2"]
        func spec(_ s: Study, notes: String, sum: String, keep: Bool = false) throws {
            try s.writeSpec("""
            {"pipe": 1, "cohort": {"subjects": ["01", "02"], "sessions": ["1", "2"]},
             "stages": {"raw": {"kind": "test.read", "pattern": "data/sub-{subject}_ses-{session}.txt"},
                        "annotated": {"kind": "test.annotate", "from": "raw"\(keep ? "" : ", \"keep\": false")},
                        "notes": {"kind": "test.notes", "from": ["annotated", "sum"], "title": "\(notes)"},
                        "sum": {"kind": "test.sum", "from": "annotated", "title": "\(sum)"}}}
            """)
        }
        let s = try Study("keep-partial")
        try s.writeScans(subjects: ["01", "02"], sessions: ["1", "2"])
        try spec(s, notes: "a", sum: "a")
        try s.runOK()
        XCTAssertEqual(s.takeExecutions().count, 4 + 4 + 2)
        let keys = try s.entries(of: "annotated")
        func out(_ scan: String) throws -> [String] {
            try FileManager.default.contentsOfDirectory(atPath: s.cache.appendingPathComponent("tasks/\(keys[scan]!)/out").path)
        }
        func marker(_ scan: String) -> URL { s.cache.appendingPathComponent("tasks/\(keys[scan]!)/dropped") }
        for scan in scans {
            XCTAssertEqual(try out(scan), ["\(scan).note.txt"], "only the bulk output is dropped")
            let lines = try String(contentsOf: marker(scan), encoding: .utf8).split(separator: "\n")
            XCTAssertEqual(lines.dropFirst(), ["\(scan).txt"])
            let numbers = try String(contentsOf: s.dir.appendingPathComponent("data/\(scan).txt"), encoding: .utf8)
            XCTAssertEqual(Int(lines[0]), numbers.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) + "\n" }.joined().utf8.count,
                           "the bytes of the numbers dropped")
        }

        // A reader of the kept notes reruns alone, on either executor.
        try spec(s, notes: "b", sum: "a")
        let quiet = try s.tool("plan", "$SPEC")
        XCTAssertTrue(quiet.stdout.contains("10 tasks: 9 cached, 1 to run, 0 pending"), quiet.stdout)
        let local = try s.runOK("--json")
        XCTAssertEqual(s.takeExecutions(), ["test.notes group"])
        XCTAssertFalse(local.stdout.contains("its data was dropped"), local.stdout)
        XCTAssertEqual(String(decoding: try XCTUnwrap(s.outputs()["notes/notes.txt"]), as: UTF8.self),
                       scans.map { "\($0) 4\n" }.joined() + "b 16\n")
        try spec(s, notes: "c", sum: "a")
        try s.runOK("--executor", "worker")
        XCTAssertEqual(s.takeExecutions(), ["test.notes group"])
        XCTAssertEqual(try s.entries(of: "annotated"), keys)

        // A reader of the dropped numbers has them recomputed (the same keys), then dropped again;
        // notes, which reads annotated and sum, runs once sum has, not once per recomputed entry.
        func inode(_ scan: String) throws -> UInt64? {
            try FileManager.default.attributesOfItem(atPath: s.cache.appendingPathComponent("tasks/\(keys[scan]!)/out/\(scan).note.txt").path)[.systemFileNumber] as? UInt64
        }
        let inodes = try scans.map(inode)
        try spec(s, notes: "c", sum: "b")
        let planned = try s.tool("plan", "$SPEC")
        XCTAssertTrue(planned.stdout.contains("10 tasks: 4 cached, 5 to run, 1 pending"), "the plan shows the recomputations: \(planned.stdout)")
        XCTAssertEqual(planned.stdout.split(separator: "\n").filter { $0.hasPrefix("annotated") && $0.contains(" run ")
            && $0.contains("its data was dropped (keep: false) and sum group needs it") }.count, 4, planned.stdout)
        let r = try s.runOK("--json")
        XCTAssertEqual(s.takeExecutions(), scans.map { "test.annotate \($0)" } + ["test.notes group", "test.sum group"])
        let warnings = r.stdout.split(separator: "\n").filter { $0.contains("its data was dropped (keep: false)") }
        XCTAssertEqual(warnings.count, 1, "one warning for the stage, not one per entry: \(r.stdout)")
        XCTAssertTrue(warnings.first?.contains("and sum group needs it; recomputing it, and every other annotated entry") ?? false, r.stdout)
        XCTAssertEqual(try s.entries(of: "annotated"), keys)
        for scan in scans { XCTAssertEqual(try out(scan), ["\(scan).note.txt"]) }
        XCTAssertEqual(try scans.map(inode), inodes, "the entries stayed in place: the kept notes are the same files")
        try s.runOK()
        XCTAssertEqual(s.takeExecutions(), [])
        XCTAssertEqual(try s.lastRunSummary()["bytesHashed"] as? Int, 0, "a no-op rerun hashes nothing")

        // The same outputs as a study that keeps everything.
        let kept = try Study("keep-partial-reference")
        try kept.writeScans(subjects: ["01", "02"], sessions: ["1", "2"])
        try spec(kept, notes: "c", sum: "b", keep: true)
        try kept.runOK()
        XCTAssertEqual(try s.outputs(), try kept.outputs().filter { !$0.key.hasPrefix("annotated/") })

        // A marker as older versions wrote it (the bytes alone: every output dropped), and a kept
        // note gone missing (damaged): both entries are recomputed for the notes reader.
        try "8".write(to: marker("sub-01_ses-1"), atomically: true, encoding: .utf8)
        let note1 = s.cache.appendingPathComponent("tasks/\(keys["sub-01_ses-1"]!)/out/sub-01_ses-1.note.txt").path
        let note2 = s.cache.appendingPathComponent("tasks/\(keys["sub-02_ses-2"]!)/out/sub-02_ses-2.note.txt").path
        XCTAssertEqual(unlink(note1), 0)
        XCTAssertEqual(unlink(note2), 0)
        try spec(s, notes: "d", sum: "b")
        let again = try s.runOK("--json")
        XCTAssertEqual(s.takeExecutions(), ["test.annotate sub-01_ses-1", "test.annotate sub-02_ses-2", "test.notes group"])
        XCTAssertTrue(again.stdout.contains("annotated sub-02_ses-2: cache entry") && again.stdout.contains("output sub-02_ses-2.note.txt is missing"), again.stdout)
        XCTAssertEqual(String(decoding: try XCTUnwrap(s.outputs()["notes/notes.txt"]), as: UTF8.self),
                       scans.map { "\($0) 4\n" }.joined() + "d 16\n")
        for scan in scans { XCTAssertEqual(try out(scan), ["\(scan).note.txt"]) }

        // verify checks what is kept: a changed note is corrupt, the dropped numbers are not missed.
        let clean = try s.tool("cache", "verify", "--cache-dir", s.cache.path)
        XCTAssertEqual(clean.status, 0, clean.stdout + clean.stderr)
        try s.tamper(s.cache.appendingPathComponent("tasks/\(keys["sub-02_ses-1"]!)/out/sub-02_ses-1.note.txt").path, with: "5")
        let verify = try s.tool("cache", "verify", "--cache-dir", s.cache.path)
        XCTAssertNotEqual(verify.status, 0)
        XCTAssertTrue((verify.stdout + verify.stderr).contains("output sub-02_ses-1.note.txt has digest"), verify.stdout + verify.stderr)
    }

    /// A recomputation that fails skips the tasks waiting for it, and only those: a reader of the
    /// kept files goes on. A recomputation that gives other bytes (a kind that is not
    /// deterministic) fails, and the entry downstream tasks were keyed on stays as it was.
    func testARecomputationThatFailsOrDiffersLeavesTheEntryAndOtherReadersAlone() throws {
        func spec(_ s: Study, notes: String, sum: String) throws {
            try s.writeSpec("""
            {"pipe": 1, "cohort": {"subjects": ["01", "02"], "sessions": ["1"]},
             "stages": {"raw": {"kind": "test.read", "pattern": "data/sub-{subject}_ses-{session}.txt"},
                        "annotated": {"kind": "test.annotate", "from": "raw", "keep": false},
                        "notes": {"kind": "test.notes", "from": "annotated", "title": "\(notes)"},
                        "sum": {"kind": "test.sum", "from": "annotated", "title": "\(sum)"}}}
            """)
        }
        let s = try Study("keep-failing")
        try s.writeScans(subjects: ["01", "02"], sessions: ["1"])
        try spec(s, notes: "a", sum: "a")
        try s.runOK()
        _ = s.takeExecutions()
        let keys = try s.entries(of: "annotated")

        try spec(s, notes: "b", sum: "b")
        let failing = try s.tool("run", "$SPEC", "--keep-going", env: ["PIPE_TEST_FAIL": "sub-01_ses-1"])
        XCTAssertNotEqual(failing.status, 0)
        XCTAssertEqual(s.takeExecutions(), ["test.annotate sub-01_ses-1", "test.annotate sub-02_ses-1", "test.notes group"],
                       "notes reads the kept notes and runs; sum waits for the recomputation and is skipped")
        let summary = try s.lastRunSummary()
        XCTAssertEqual(summary["failed"] as? Int, 1, "\(summary)")
        XCTAssertEqual(summary["skipped"] as? Int, 1, "\(summary)")
        XCTAssertTrue(failing.stderr.contains("failing on purpose for sub-01_ses-1"), failing.stderr)
        XCTAssertEqual(try s.entries(of: "annotated"), keys)

        // sub-02's recomputed entry stays whole (sum, its reader, did not run); sub-01's, which
        // failed, is still dropped, so only it is recomputed now.
        try s.runOK()
        XCTAssertEqual(s.takeExecutions(), ["test.annotate sub-01_ses-1", "test.sum group"])

        // Other bytes on recomputation: the task fails, naming the entry, and the entry stays.
        try spec(s, notes: "b", sum: "c")
        let differing = try s.tool("run", "$SPEC", env: ["PIPE_TEST_ANNOTATE_OFFSET": "1"])
        XCTAssertNotEqual(differing.status, 0)
        XCTAssertTrue(differing.stderr.contains("gave other outputs than it recorded") && differing.stderr.contains("not deterministic"),
                      differing.stderr)
        XCTAssertEqual(try s.entries(of: "annotated"), keys)
        _ = s.takeExecutions()
        try s.runOK()
        XCTAssertEqual(s.takeExecutions(), ["test.annotate sub-01_ses-1", "test.annotate sub-02_ses-1", "test.sum group"],
                       "recomputed with the recorded bytes once the kind is deterministic again")
        let verify = try s.tool("cache", "verify", "--cache-dir", s.cache.path)
        XCTAssertEqual(verify.status, 0, verify.stdout + verify.stderr)
    }

    /// Data a `keep: false` stage drops is published without fsync by the executors on the run's
    /// machine (local and worker), its entry recording the boot id; Slurm jobs fsync it
    /// (`SlurmTests`). After a crash of the machine (another boot id) such data counts as dropped:
    /// its files go, nothing that is cached reruns, and it is recomputed, the same bytes, when a
    /// task needs it.
    func testDataLeftUnsyncedCountsAsDroppedAfterTheMachineRestarts() throws {
        let boot = try String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        // `scaled` is read by nothing yet, so it keeps its data: the state in which a crash finds
        // an entry whose readers have not run.
        func spec(_ s: Study, reader: Bool) throws {
            let clamped = reader ? #", "clamped": {"kind": "test.clamp", "from": "scaled", "max": 5}"# : ""
            try s.writeSpec("""
            {"pipe": 1, "cohort": {"subjects": ["01", "02", "03"], "sessions": ["1"]},
             "stages": {"raw": {"kind": "test.read", "pattern": "data/sub-{subject}_ses-{session}.txt"},
                        "scaled": {"kind": "test.scale", "from": "raw", "factor": 2, "keep": false}\(clamped)}}
            """)
        }
        func list(_ s: Study, _ key: String) throws -> String {
            try String(contentsOf: s.cache.appendingPathComponent("tasks/\(key)/outputs.tsv"), encoding: .utf8)
        }
        for executor in ["local", "worker"] {
            let s = try Study("keep-unsynced-\(executor)")
            try s.writeScans(subjects: ["01", "02", "03"], sessions: ["1"])
            try spec(s, reader: false)
            try s.runOK("--executor", executor)
            XCTAssertEqual(s.takeExecutions().count, 6)
            let scaled = try s.entries(of: "scaled")
            XCTAssertEqual(scaled.count, 3)
            for key in scaled.values {
                let lines = try list(s, key).split(separator: "\n")
                let unsynced = lines.filter { $0.hasPrefix("unsynced\t") }
                XCTAssertEqual(unsynced.count, lines.count / 2, "every output of the keep: false stage (\(executor)): \(lines)")
                XCTAssertTrue(unsynced.allSatisfy { $0.split(separator: "\t")[1] == Substring(boot) }, "\(unsynced)")
            }
            for key in try s.entries(of: "raw").values {
                XCTAssertFalse(try list(s, key).contains("unsynced"), "a stage that keeps its data is fsynced by the end of the run")
            }
            let plan = try s.tool("plan", "$SPEC")
            XCTAssertTrue(plan.stdout.contains("6 tasks: 6 cached"), "the same boot: intact\n" + plan.stdout)
            XCTAssertEqual(try dropped(s, "scaled").count, 0)

            // The machine restarts: the entries now record another boot.
            for key in scaled.values {
                let path = s.cache.appendingPathComponent("tasks/\(key)/outputs.tsv").path
                let rebooted = try list(s, key).replacingOccurrences(of: boot, with: "00000000-0000-0000-0000-000000000000")
                chmod(path, 0o644)
                try rebooted.write(toFile: path, atomically: true, encoding: .utf8)
            }
            let after = try s.tool("plan", "$SPEC")
            XCTAssertTrue(after.stdout.contains("6 tasks: 6 cached, 0 to run"), "nothing reads the lost data: \(after.stdout)")
            // `pipe plan` holds no lock, so it changes nothing (a run holding the lock might be
            // restoring those very files); the next run drops them.
            XCTAssertEqual(try dropped(s, "scaled").count, 0, "pipe plan removed files")
            for key in scaled.values {
                XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: s.cache.appendingPathComponent("tasks/\(key)/out").path).count, 1)
            }
            try s.runOK("--executor", executor)
            XCTAssertEqual(s.takeExecutions(), [], "nothing reads the lost data")
            let lost = try dropped(s, "scaled")
            XCTAssertEqual(lost.count, 3, "the unsynced data counts as dropped, its files gone")
            let du = try s.tool("cache", "du", "--json", "--cache-dir", s.cache.path)
            let usage = try JSONSerialization.jsonObject(with: Data(du.stdout.utf8)) as? [String: Any]
            XCTAssertEqual((usage?["dropped"] as? [String: Any])?["entries"] as? Int, 3, du.stdout)

            // A reader: scaled is recomputed with the same keys (so the same bytes), then dropped.
            try spec(s, reader: true)
            try s.runOK("--executor", executor)
            let ex = s.takeExecutions()
            XCTAssertEqual(ex.filter { $0.hasPrefix("test.scale ") }.count, 3, "\(ex)")
            XCTAssertEqual(ex.filter { $0.hasPrefix("test.read ") }.count, 0, "\(ex)")
            XCTAssertEqual(try s.entries(of: "scaled"), scaled)
            XCTAssertEqual(try dropped(s, "scaled").count, 3)
            let reference = try Study("keep-unsynced-reference-\(executor)")
            try reference.writeScans(subjects: ["01", "02", "03"], sessions: ["1"])
            try spec(reference, reader: true)
            try reference.runOK("--executor", executor)
            XCTAssertEqual(try s.outputs(), try reference.outputs())
            let verify = try s.tool("cache", "verify", "--cache-dir", s.cache.path)
            XCTAssertEqual(verify.status, 0, verify.stdout + verify.stderr)
        }
    }

    /// A run killed before its background sync (``DeferredSync``) leaves its entries marked as
    /// unsynced under this boot. The next run that serves them syncs them, so a later restart of
    /// the machine does not count their data as lost; what a `keep: false` stage drops soon stays
    /// unsynced, as at the end of any run.
    func testARunSyncsWhatAKilledRunLeftUnsyncedOnThisBoot() throws {
        let boot = try String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        func list(_ s: Study, _ key: String) throws -> String {
            try String(contentsOf: s.cache.appendingPathComponent("tasks/\(key)/outputs.tsv"), encoding: .utf8)
        }
        func marks(_ s: Study, _ key: String) throws -> [String] {
            try list(s, key).split(separator: "\n").filter { $0.hasPrefix("unsynced\t") }.map(String.init)
        }
        for executor in ["local", "worker"] {
            let s = try Study("unsynced-killed-\(executor)")
            try s.writeScans(subjects: ["01", "02"], sessions: ["1"])
            try s.writeSpec("""
            {"pipe": 1, "cohort": {"subjects": ["01", "02"], "sessions": ["1"]},
             "stages": {"raw": {"kind": "test.read", "pattern": "data/sub-{subject}_ses-{session}.txt"},
                        "scaled": {"kind": "test.scale", "from": "raw", "factor": 2, "keep": false}}}
            """)
            try s.runOK("--executor", executor)
            XCTAssertEqual(s.takeExecutions().count, 4)
            let raw = try s.entries(of: "raw"), scaled = try s.entries(of: "scaled")
            let scaledMarks = try scaled.values.map { try marks(s, $0) }
            XCTAssertTrue(scaledMarks.allSatisfy { !$0.isEmpty }, "the keep: false data is never synced: \(scaledMarks)")

            // What a SIGKILL before the sync leaves: every output of raw marked with this boot.
            for key in raw.values {
                let path = s.cache.appendingPathComponent("tasks/\(key)/outputs.tsv").path
                let text = try list(s, key)
                XCTAssertTrue(try marks(s, key).isEmpty, text)
                let names = text.split(separator: "\n").map { $0.split(separator: "\t") }.filter { $0.count == 5 }.map { $0[4] }
                XCTAssertFalse(names.isEmpty, text)
                chmod(path, 0o644)
                try (text + names.map { "unsynced\t\(boot)\t\($0)\n" }.joined()).write(toFile: path, atomically: true, encoding: .utf8)
                XCTAssertEqual(try marks(s, key).count, names.count)
            }
            try s.runOK("--executor", executor)
            XCTAssertEqual(s.takeExecutions(), [], "everything was cached")
            for key in raw.values {
                XCTAssertEqual(try marks(s, key), [], "a served entry left unsynced is synced by the run (\(executor))")
            }
            XCTAssertEqual(try scaled.values.map { try marks(s, $0) }, scaledMarks, "data dropped soon stays unsynced")
            let verify = try s.tool("cache", "verify", "--cache-dir", s.cache.path)
            XCTAssertEqual(verify.status, 0, verify.stdout + verify.stderr)
        }
    }

    /// A large mapped output of a `keep: false` stage reuses the file dropped just before (a
    /// spare, kept in `tmp/` between the drop and the next task: its pages stay in memory), reads
    /// as zeros all the same, and the run leaves no spare behind.
    func testDroppedFilesAreReusedClearedByTheNextLargeMappedOutput() throws {
        for executor in ["local", "worker"] {
            let s = try Study("keep-spares-\(executor)")
            try s.writeScans(subjects: ["01", "02", "03"], sessions: ["1", "2"])
            // 32 MiB: the smallest file kept as a spare.
            try s.writeSpec("""
            {"pipe": 1, "cohort": {"subjects": ["01", "02", "03"], "sessions": ["1", "2"]},
             "stages": {"raw": {"kind": "test.read", "pattern": "data/sub-{subject}_ses-{session}.txt"},
                        "annotated": {"kind": "test.annotate", "from": "raw", "mapped_mb": 32, "keep": false},
                        "notes": {"kind": "test.notes", "from": "annotated"}}}
            """)
            // One task at a time: each annotate task starts after the previous one's data is dropped.
            try s.runOK("--executor", executor, "--jobs", "1")
            XCTAssertEqual(s.takeExecutions().count, 6 + 6 + 1)
            var inodes: [String] = []
            for key in try s.entries(of: "annotated").values {
                let entry = s.cache.appendingPathComponent("tasks/\(key)")
                let names = try FileManager.default.contentsOfDirectory(atPath: entry.appendingPathComponent("out").path)
                XCTAssertEqual(names.filter { !$0.hasSuffix(".note.txt") && !$0.hasSuffix(".inode.txt") }, [], "dropped")
                let inode = try XCTUnwrap(names.first { $0.hasSuffix(".inode.txt") })
                inodes.append(try String(contentsOf: entry.appendingPathComponent("out/\(inode)"), encoding: .utf8))
                let marker = try String(contentsOf: entry.appendingPathComponent("dropped"), encoding: .utf8).split(separator: "\n")
                XCTAssertTrue(marker.contains { $0.hasSuffix(".bulk.bin") }, "\(marker)")
                XCTAssertGreaterThan(Int(marker[0]) ?? 0, 32 << 20, "the bytes freed count the bulk file")
            }
            XCTAssertEqual(inodes.count, 6)
            XCTAssertEqual(Set(inodes).count, 1, "every task after the first reused the file dropped before it (\(executor)): \(inodes)")
            let tmp = try FileManager.default.contentsOfDirectory(atPath: s.cache.appendingPathComponent("tmp").path)
            XCTAssertFalse(tmp.contains { $0.hasPrefix("spare.") }, "the run deletes its spares: \(tmp)")
            let notes = try XCTUnwrap(try s.outputs().first { $0.key.hasSuffix("notes.txt") }?.value)
            XCTAssertEqual(String(decoding: notes, as: UTF8.self).split(separator: "\n").count, 7, "six scans and the total")
        }
    }

    func testKeepFalseCannotBePublished() throws {
        let s = try Study("keep-publish")
        try s.writeScans(subjects: ["01"], sessions: ["1"])
        try s.writeSpec("""
        {"pipe": 1, "cohort": {"subjects": ["01"], "sessions": ["1"]},
         "stages": {"raw": {"kind": "test.read", "pattern": "data/sub-{subject}_ses-{session}.txt", "keep": false, "publish": true},
                    "scaled": {"kind": "test.scale", "from": "raw", "factor": 2}}}
        """)
        let r = try s.tool("run", "$SPEC")
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("stages.raw.publish") && r.stderr.contains("keep: false"), r.stderr)
    }

    /// A dropped entry that only a pending task reads (it runs if its other upstream's new output
    /// differs) is shown as pending by the plan, with why, not as cached; the run recomputes it.
    func testThePlanShowsADroppedEntryThatOnlyAPendingTaskReadsAsPending() throws {
        let s = try Study("keep-pending")
        try s.writeScans(subjects: ["01", "02"], sessions: ["1"])
        func spec(_ title: String) throws {
            try s.writeSpec("""
            {"pipe": 1, "cohort": {"subjects": ["01", "02"], "sessions": ["1"]},
             "stages": {"raw": {"kind": "test.read", "pattern": "data/sub-{subject}_ses-{session}.txt"},
                        "annotated": {"kind": "test.annotate", "from": "raw", "keep": false},
                        "other": {"kind": "test.sum", "from": "raw", "title": "\(title)"},
                        "total": {"kind": "test.sum", "from": ["annotated", "other"], "title": "t"}}}
            """)
        }
        try spec("a")
        try s.runOK()
        _ = s.takeExecutions()
        try spec("b")
        let plan = try s.tool("plan", "$SPEC")
        XCTAssertTrue(plan.stdout.contains("6 tasks: 2 cached, 1 to run, 3 pending"), plan.stdout)
        let shown = plan.stdout.split(separator: "\n").filter { $0.hasPrefix("annotated") }
        XCTAssertEqual(shown.count, 2, plan.stdout)
        XCTAssertTrue(shown.allSatisfy { $0.contains("pending") && $0.contains("its data was dropped (keep: false) and total group needs it if it runs") }, plan.stdout)
        try s.runOK()
        XCTAssertEqual(s.takeExecutions().sorted(), ["test.annotate sub-01_ses-1", "test.annotate sub-02_ses-1", "test.sum group", "test.sum group"])
    }
}
