import Foundation
import TestSupport
import XCTest

/// End-to-end on a real Slurm (`scripts/slurm/start`, which `scripts/test` runs with
/// `PIPE_SLURM_MAX_ARRAY_SIZE=8` and 8 CPUs): job arrays split at the cluster's limit, the same
/// outputs as the local executor, out-of-memory kills resubmitted with more memory, a changed
/// stage asking for the memory its earlier tasks measured (also after `keep: false`), a killed
/// controller's jobs adopted by the next run, and Ctrl-C cancelling every job of the run.
final class SlurmTests: XCTestCase {
    /// The client environment of the test cluster; skips (or fails, with PIPE_REQUIRE_SLURM=1)
    /// without one.
    func slurm() throws -> [String: String] {
        let env = ProcessInfo.processInfo.environment
        guard let conf = env["SLURM_CONF"], FileManager.default.fileExists(atPath: conf) else {
            if env["PIPE_REQUIRE_SLURM"] == "1" { XCTFail("SLURM_CONF is not set: scripts/test starts the local Slurm (scripts/slurm/start)") }
            throw XCTSkip("no Slurm cluster (SLURM_CONF)")
        }
        return ["SLURM_CONF": conf]
    }

    /// The run's journal events, oldest run first.
    func journal(_ s: Study) throws -> [[[String: Any]]] {
        let folder = s.cache.appendingPathComponent("journal")
        return try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".jsonl") }.sorted().map { name in
            try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8).split(separator: "\n").compactMap {
                try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
        }
    }

    func events(_ run: [[String: Any]], _ name: String, stage: String? = nil) -> [[String: Any]] {
        run.filter { $0["event"] as? String == name && (stage == nil || $0["stage"] as? String == stage) }
    }

    func queued(_ env: [String: String]) throws -> String {
        try runProcess("/usr/bin/env", ["squeue", "-h", "-r", "-o", "%i %T %j"], environment: env).output
    }

    /// Ten scans through three stages, the last touching 150 MiB with a 100 MiB request: every
    /// stage goes as arrays of at most MaxArraySize elements, each memory kill is resubmitted
    /// with 200 MiB and succeeds, and the outputs equal the local executor's.
    func testArraysMemoryResubmissionAndLocalIdenticalOutputs() throws {
        let env = try slurm()
        let s = try Study("slurm-arrays")
        let subjects = (1...10).map { String(format: "%02d", $0) }
        try s.writeScans(subjects: subjects, sessions: ["1"])
        try s.writeSpec("""
        {"pipe": 1, "cohort": {"subjects": [\(subjects.map { "\"\($0)\"" }.joined(separator: ","))], "sessions": ["1"]},
         "slurm": {"poll_seconds": 0.3},
         "stages": {"raw": {"kind": "test.read", "pattern": "data/sub-{subject}_ses-{session}.txt"},
                    "scaled": {"kind": "test.scale", "from": "raw", "factor": 3},
                    "big": {"kind": "test.alloc", "from": "scaled", "mb": 150, "hold_ms": 2500, "memory": 100}}}
        """)
        let r = try s.tool("run", "$SPEC", "--executor", "slurm", env: env, deadline: 300)
        XCTAssertEqual(r.status, 0, r.stderr)
        let calls = try XCTUnwrap(r.stderr.split(separator: "\n").first { $0.hasPrefix("slurm: ") }, r.stderr)
        let run = try XCTUnwrap(try journal(s).last)
        let limit = try XCTUnwrap(Int(try runProcess("/usr/bin/env", ["scontrol", "show", "config"], environment: env).output
            .split(separator: "\n").first { $0.hasPrefix("MaxArraySize") }?.split(separator: "=").last?.trimmingCharacters(in: .whitespaces) ?? ""))
        let submitted = events(run, "submitted")
        XCTAssertEqual(submitted.filter { ($0["resubmission"] as? Int) == 0 }.count, 30, "each task submitted once")
        var arrays: [String: Int] = [:]
        for e in submitted { arrays[String((e["job"] as! String).split(separator: "_")[0]), default: 0] += 1 }
        XCTAssertTrue(arrays.values.allSatisfy { $0 <= limit }, "an array over MaxArraySize \(limit): \(arrays)")
        let raw = Set(events(run, "submitted", stage: "raw").map { ($0["job"] as! String).split(separator: "_")[0] })
        XCTAssertEqual(raw.count, (10 + limit - 1) / limit, "the 10 raw tasks go as ceil(10 / \(limit)) arrays")
        XCTAssertTrue(calls.contains("\(arrays.count) sbatch"), "one sbatch per array: \(calls), \(arrays.count) arrays")
        XCTAssertLessThan(arrays.count, submitted.count / 2, "arrays amortise submissions: \(arrays.count) for \(submitted.count) jobs")
        // Memory: every big task was killed at 100 MiB and succeeded with 200.
        let killed = events(run, "job-ended", stage: "big").filter { $0["state"] as? String == "OUT_OF_MEMORY" }
        XCTAssertEqual(killed.count, 10, "\(events(run, "job-ended", stage: "big"))")
        XCTAssertTrue(killed.allSatisfy { ($0["action"] as? String) == "resubmitted with 200 MiB" })
        let again = events(run, "submitted", stage: "big").filter { ($0["resubmission"] as? Int) == 1 }
        XCTAssertEqual(again.count, 10)
        XCTAssertTrue(again.allSatisfy { ($0["memoryMiB"] as? Int) == 200 })
        XCTAssertEqual(events(run, "finished", stage: "big").count, 10)

        let local = s.root.appendingPathComponent("out-local")
        let l = try s.tool("run", "$SPEC", "--cache-dir", s.root.appendingPathComponent("cache-local").path, "--outputs", local.path, "--quiet")
        XCTAssertEqual(l.status, 0, l.stderr)
        let provenance: Set<String> = ["/dataset_description.json", "/methods.md"]
        XCTAssertEqual(try s.outputs().filter { !provenance.contains($0.key) }, try s.outputs(in: local).filter { !provenance.contains($0.key) })
        // A rerun submits nothing.
        let rerun = try s.tool("run", "$SPEC", "--executor", "slurm", env: env, deadline: 60)
        XCTAssertEqual(rerun.status, 0, rerun.stderr)
        XCTAssertTrue(rerun.stderr.contains("slurm: 0 sbatch"), rerun.stderr)

        // --mem from the stage's record, also when its data is gone: with `big` dropped
        // (keep: false, once `after` has read it), a changed `big` asks for the peak its earlier tasks measured times
        // memory_margin (1.5), not the 100 MiB estimate, so no job is killed.
        func spec(_ big: String) -> String {
            """
            {"pipe": 1, "cohort": {"subjects": [\(subjects.map { "\"\($0)\"" }.joined(separator: ","))], "sessions": ["1"]},
             "slurm": {"poll_seconds": 0.3},
             "stages": {"raw": {"kind": "test.read", "pattern": "data/sub-{subject}_ses-{session}.txt"},
                        "scaled": {"kind": "test.scale", "from": "raw", "factor": 3},
                        "big": {"kind": "test.alloc", "from": "scaled", "mb": 150, "memory": 100, "keep": false, \(big)},
                        "after": {"kind": "test.scale", "from": "big", "factor": 2}}}
            """
        }
        try s.writeSpec(spec(#""hold_ms": 2500"#))
        let drop = try s.tool("run", "$SPEC", "--executor", "slurm", env: env, deadline: 60)
        XCTAssertEqual(drop.status, 0, drop.stderr)
        let tasks = s.cache.appendingPathComponent("tasks")
        let dropped = try FileManager.default.subpathsOfDirectory(atPath: tasks.path).filter { $0.hasSuffix("/dropped") }
        XCTAssertEqual(dropped.count, 10, "big's ten entries are dropped")
        for entry in try FileManager.default.contentsOfDirectory(atPath: tasks.path) where entry.count == 64 {
            let list = try String(contentsOf: tasks.appendingPathComponent("\(entry)/outputs.tsv"), encoding: .utf8)
            XCTAssertFalse(list.contains("unsynced\t"), "a Slurm job fsyncs everything it publishes, keep: false or not: \(list)")
        }
        try s.writeSpec(spec(#""hold_ms": 2400"#))
        let learned = try s.tool("run", "$SPEC", "--executor", "slurm", env: env, deadline: 300)
        XCTAssertEqual(learned.status, 0, learned.stderr)
        let last = try XCTUnwrap(try journal(s).last)
        let bigs = events(last, "submitted", stage: "big")
        XCTAssertEqual(bigs.count, 10, "each changed task submitted once, none again: \(bigs.map { $0["job"] ?? "" })")
        XCTAssertTrue(bigs.allSatisfy { ($0["memoryMiB"] as? Int ?? 0) >= 225 }, "150 MiB touched × 1.5: \(bigs.map { $0["memoryMiB"] ?? "" })")
        XCTAssertTrue(events(last, "job-ended", stage: "big").allSatisfy { $0["state"] as? String == "COMPLETED" }, "no job was killed")
        XCTAssertEqual(events(last, "finished", stage: "big").count, 10)
    }

    /// Data that a local run left unsynced (a `keep: false` stage whose reader has not run) is
    /// fsynced by the Slurm run before its jobs read it: a job on another machine cannot tell
    /// whether this one restarted since, and would count the data as lost.
    func testDataALocalRunLeftUnsyncedIsMadeDurableBeforeJobsReadIt() throws {
        let env = try slurm()
        let s = try Study("slurm-unsynced")
        try s.writeScans(subjects: ["01", "02", "03"], sessions: ["1"])
        func spec(reader: Bool) throws {
            let clamped = reader ? #", "clamped": {"kind": "test.clamp", "from": "scaled", "max": 5}"# : ""
            try s.writeSpec("""
            {"pipe": 1, "cohort": {"subjects": ["01", "02", "03"], "sessions": ["1"]}, "slurm": {"poll_seconds": 0.3},
             "stages": {"raw": {"kind": "test.read", "pattern": "data/sub-{subject}_ses-{session}.txt"},
                        "scaled": {"kind": "test.scale", "from": "raw", "factor": 2, "keep": false}\(clamped)}}
            """)
        }
        func list(_ key: String) throws -> String {
            try String(contentsOf: s.cache.appendingPathComponent("tasks/\(key)/outputs.tsv"), encoding: .utf8)
        }
        try spec(reader: false)
        try s.runOK("--executor", "local")
        let scaled = try s.entries(of: "scaled")
        XCTAssertEqual(scaled.count, 3)
        for key in scaled.values {
            let l = try list(key)
            XCTAssertTrue(l.contains("unsynced\t"), "the local run left it unsynced: \(l)")
        }

        try spec(reader: true)
        let r = try s.tool("run", "$SPEC", "--executor", "slurm", env: env, deadline: 120)
        XCTAssertEqual(r.status, 0, r.stderr)
        let run = try XCTUnwrap(try journal(s).last)
        XCTAssertEqual(events(run, "submitted", stage: "scaled").count, 0, "the unsynced data served")
        XCTAssertEqual(events(run, "finished", stage: "clamped").count, 3)
        XCTAssertEqual(try s.entries(of: "scaled"), scaled)
        for key in scaled.values {
            let l = try list(key)
            XCTAssertFalse(l.contains("unsynced"), "not made durable before the jobs: \(l)")
        }
    }

    /// A study of three tasks that wait on a gate file.
    func gatedStudy(_ name: String) throws -> (Study, URL) {
        let s = try Study(name)
        try s.writeScans(subjects: ["01", "02", "03"], sessions: ["1"])
        let gate = s.root.appendingPathComponent("gate")
        try s.writeSpec("""
        {"pipe": 1, "cohort": {"subjects": ["01", "02", "03"], "sessions": ["1"]},
         "slurm": {"poll_seconds": 0.2},
         "stages": {"raw": {"kind": "test.read", "pattern": "data/sub-{subject}_ses-{session}.txt"},
                    "slow": {"kind": "test.slow", "from": "raw", "ms": 10, "gate": "\(gate.path)"}}}
        """)
        return (s, gate)
    }

    /// Starts a slurm run of `s` and waits until its three gated jobs run.
    func startGated(_ s: Study, env: [String: String], stderr: String) throws -> (Process, [String]) {
        let run = try ToolHarness.start(["run", s.spec.path, "--executor", "slurm"], env: s.env.merging(env) { _, b in b },
                                        stderr: s.root.appendingPathComponent(stderr))
        var jobs: [String] = []
        XCTAssertTrue(ProcessWatch.poll(seconds: 60) {
            jobs = ((try? self.journal(s).last) ?? []).filter { $0["event"] as? String == "submitted" && $0["stage"] as? String == "slow" }
                .compactMap { $0["job"] as? String }
            guard jobs.count == 3, let q = try? self.queued(env) else { return false }
            return jobs.allSatisfy { q.contains("\($0) RUNNING") }
        }, "the three gated jobs never ran")
        return (run, jobs)
    }

    /// The controller is killed while its jobs run: they keep running, and the next run waits for
    /// them (attached) instead of submitting them again, then finishes.
    func testAKilledControllersJobsAreAdoptedNotDuplicated() throws {
        let env = try slurm()
        let (s, gate) = try gatedStudy("slurm-adopt")
        let (first, jobs) = try startGated(s, env: env, stderr: "first.txt")
        kill(first.processIdentifier, SIGKILL)
        guard ProcessWatch.waitForExit(first, seconds: 10, "killed controller") else { return }
        XCTAssertTrue(jobs.allSatisfy { (try? queued(env))?.contains("\($0) RUNNING") ?? false }, "the jobs outlive their controller")
        let second = try ToolHarness.start(["run", s.spec.path, "--executor", "slurm"], env: s.env.merging(env) { _, b in b },
                                           stderr: s.root.appendingPathComponent("second.txt"))
        XCTAssertTrue(ProcessWatch.poll(seconds: 60) {
            self.events((try? self.journal(s).last) ?? [], "attached", stage: "slow").count == 3
        }, "the second run did not adopt the three running jobs")
        try Data().write(to: gate)
        guard ProcessWatch.waitForExit(second, seconds: 120, "second run") else { return }
        XCTAssertEqual(second.terminationStatus, 0, (try? String(contentsOf: s.root.appendingPathComponent("second.txt"), encoding: .utf8)) ?? "")
        let runs = try journal(s)
        XCTAssertEqual(runs.count, 2)
        XCTAssertEqual(events(runs[1], "submitted", stage: "slow").count, 0, "no duplicate submission")
        XCTAssertEqual(Set(events(runs[1], "attached", stage: "slow").compactMap { $0["job"] as? String }), Set(jobs))
        XCTAssertEqual(events(runs[1], "finished", stage: "slow").count, 3)
        XCTAssertEqual(try s.entries(of: "slow").count, 3)
    }

    /// Ctrl-C cancels every job of the run with one scancel and exits 130; none is left queued.
    func testInterruptCancelsEveryJob() throws {
        let env = try slurm()
        let (s, _) = try gatedStudy("slurm-interrupt")
        let (run, jobs) = try startGated(s, env: env, stderr: "run.txt")
        kill(run.processIdentifier, SIGINT)
        guard ProcessWatch.waitForExit(run, seconds: 60, "interrupted run") else { return }
        XCTAssertEqual(run.terminationStatus, 130)
        XCTAssertTrue(ProcessWatch.poll(seconds: 30) {
            guard let q = try? self.queued(env) else { return false }
            return jobs.allSatisfy { !q.contains($0 + " ") }
        }, "jobs of the interrupted run are still queued")
        let text = (try? String(contentsOf: s.root.appendingPathComponent("run.txt"), encoding: .utf8)) ?? ""
        XCTAssertTrue(text.contains("1 scancel"), text)
    }
}
