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
            bytes += Int(try String(contentsOf: entry.appendingPathComponent("dropped"), encoding: .utf8)) ?? -1
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
}
