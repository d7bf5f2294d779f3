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
    /// with 200 MiB and succeeds (a task ready after a kill starts at 200), and the outputs equal
    /// the local executor's.
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
        // Memory: every big task submitted with the 100 MiB estimate was killed and succeeded with
        // 200; a big task that became ready after the first kill started at 200 (what the kill
        // taught its stage), and was not killed.
        let bigFirst = events(run, "submitted", stage: "big").filter { ($0["resubmission"] as? Int) == 0 }
        XCTAssertEqual(bigFirst.count, 10)
        let atEstimate = bigFirst.filter { ($0["memoryMiB"] as? Int) == 100 }
        XCTAssertGreaterThan(atEstimate.count, 0)
        XCTAssertTrue(bigFirst.allSatisfy { [100, 200].contains($0["memoryMiB"] as? Int ?? 0) }, "\(bigFirst)")
        let killed = events(run, "job-ended", stage: "big").filter { $0["state"] as? String == "OUT_OF_MEMORY" }
        XCTAssertEqual(killed.count, atEstimate.count, "\(events(run, "job-ended", stage: "big"))")
        XCTAssertTrue(killed.allSatisfy { ($0["action"] as? String) == "resubmitted with 200 MiB" })
        let again = events(run, "submitted", stage: "big").filter { ($0["resubmission"] as? Int) == 1 }
        XCTAssertEqual(again.count, atEstimate.count)
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

    /// A task killed for memory goes again with twice the memory or `max_memory` when that is
    /// less, and fails only when killed at `max_memory` itself.
    func testAMemoryKillIsResubmittedAtTheCapBeforeItFails() throws {
        let env = try slurm()
        let s = try Study("slurm-cap")
        try s.writeScans(subjects: ["01"], sessions: ["1"])
        func spec(_ cap: Int) throws {
            try s.writeSpec("""
            {"pipe": 1, "cohort": {"subjects": ["01"], "sessions": ["1"]}, "slurm": {"poll_seconds": 0.3, "max_memory": \(cap)},
             "stages": {"raw": {"kind": "test.read", "pattern": "data/sub-{subject}_ses-{session}.txt"},
                        "big": {"kind": "test.alloc", "from": "raw", "mb": 120, "hold_ms": 2500, "memory": 100}}}
            """)
        }
        try spec(100)
        let stopped = try s.tool("run", "$SPEC", "--executor", "slurm", env: env, deadline: 120)
        XCTAssertNotEqual(stopped.status, 0)
        XCTAssertTrue(stopped.stderr.contains("killed at 100 MiB (OUT_OF_MEMORY"), stopped.stderr)
        XCTAssertTrue(stopped.stderr.contains("which is slurm.max_memory"), stopped.stderr)
        try spec(170)
        let r = try s.tool("run", "$SPEC", "--executor", "slurm", env: env, deadline: 120)
        XCTAssertEqual(r.status, 0, r.stderr)
        let run = try XCTUnwrap(try journal(s).last)
        let again = events(run, "submitted", stage: "big").filter { ($0["resubmission"] as? Int) == 1 }
        XCTAssertEqual(again.map { $0["memoryMiB"] as? Int }, [170], "\(events(run, "submitted", stage: "big"))")
        XCTAssertEqual(events(run, "finished", stage: "big").count, 1)
    }

    /// A job that Slurm keeps pending for a reason that cannot clear (here a time limit over the
    /// partition's MaxTime, which Slurm accepts and never starts) is cancelled and its task fails,
    /// naming the reason, instead of the run waiting for ever.
    func testAJobThatCanNeverStartFailsInsteadOfWaitingForEver() throws {
        let env = try slurm()
        let partition = ProcessInfo.processInfo.environment["PIPE_SLURM_PARTITION"] ?? "local"
        let shown = try runProcess("/usr/bin/env", ["scontrol", "show", "partition", "-o", partition], environment: env).output
        let maxTime = try XCTUnwrap(shown.split(separator: " ").first { $0.hasPrefix("MaxTime=") }, shown)
        let set = try runProcess("/usr/bin/env", ["scontrol", "update", "PartitionName=\(partition)", "MaxTime=5"], environment: env)
        XCTAssertEqual(set.status, 0, set.output)
        defer { _ = try? runProcess("/usr/bin/env", ["scontrol", "update", "PartitionName=\(partition)", String(maxTime)], environment: env) }
        let s = try Study("slurm-never")
        try s.writeScans(subjects: ["01", "02"], sessions: ["1"])
        try s.writeSpec("""
        {"pipe": 1, "cohort": {"subjects": ["01", "02"], "sessions": ["1"]}, "slurm": {"poll_seconds": 0.3, "time": 10},
         "stages": {"raw": {"kind": "test.read", "pattern": "data/sub-{subject}_ses-{session}.txt"}}}
        """)
        let r = try s.tool("run", "$SPEC", "--executor", "slurm", env: env, deadline: 90)
        XCTAssertNotEqual(r.status, 0)
        let run = try XCTUnwrap(try journal(s).last)
        // Slurm gives PartitionConfig or PartitionTimeLimit, depending on when it looked.
        let errors = events(run, "failed").compactMap { $0["error"] as? String }
        XCTAssertEqual(errors.count, 2, "\(errors)")
        XCTAssertTrue(errors.allSatisfy { $0.hasPrefix("Slurm will not start the job (pending: Partition") && $0.hasSuffix("(asked for 1 CPUs, 64 MiB, 10 min)") },
                      "\(errors)")
        XCTAssertTrue(r.stderr.contains("Slurm will not start the job (pending: Partition"), r.stderr)
        XCTAssertEqual(events(run, "job-ended").filter { ($0["action"] as? String) == "cancelled: it cannot start" }.count, 2)
        let left = try queued(env)
        for job in events(run, "submitted").compactMap({ $0["job"] as? String }) {
            XCTAssertFalse(left.contains("\(job) PENDING"), "job \(job) left in the queue: \(left)")
        }
    }

    /// `sbatch` failing for a busy controller (a socket time-out) is tried again at the next
    /// polls, with one warning, and the run completes.
    func testABusyControllerIsAskedAgain() throws {
        let env = try slurm()
        let s = try Study("slurm-busy")
        try s.writeScans(subjects: ["01", "02"], sessions: ["1"])
        try s.writeSpec("""
        {"pipe": 1, "cohort": {"subjects": ["01", "02"], "sessions": ["1"]}, "slurm": {"poll_seconds": 0.3},
         "stages": {"raw": {"kind": "test.read", "pattern": "data/sub-{subject}_ses-{session}.txt"}}}
        """)
        // An sbatch that times out twice, then submits.
        let count = s.root.appendingPathComponent("sbatch-calls")
        let shimmed = try sbatchShim(s, env: env) { real in """
            n=$(cat '\(count.path)' 2>/dev/null || echo 0)
            echo $((n + 1)) > '\(count.path)'
            if [ "$n" -lt 2 ]; then echo "sbatch: error: Batch job submission failed: Socket timed out on send/recv operation" >&2; exit 1; fi
            exec \(real) "$@"
            """ }
        let r = try s.tool("run", "$SPEC", "--executor", "slurm", env: shimmed, deadline: 60)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try String(contentsOf: count, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), "3")
        XCTAssertEqual(r.stderr.components(separatedBy: "sbatch failed, submitting again at the next poll: ").count, 2,
                       "one warning: \(r.stderr)")
        let run = try XCTUnwrap(try journal(s).last)
        XCTAssertEqual(events(run, "finished", stage: "raw").count, 2)
    }

    /// A job that ended with exit status 0 whose cache entry this machine cannot see yet (a
    /// network file system caching the entry's absence) is waited for, with one warning, and
    /// the run goes on when the entry shows; before, its task failed as "exited with status 0".
    /// Simulated with an sbatch on PATH whose jobs move the entry they published aside; the test
    /// moves it back once the run says it is waiting.
    func testAJobThatEndedWellIsWaitedForUntilItsEntryShows() throws {
        let env = try slurm()
        let s = try Study("slurm-latency")
        try s.writeScans(subjects: ["01"], sessions: ["1"])
        try s.writeSpec("""
        {"pipe": 1, "cohort": {"subjects": ["01"], "sessions": ["1"]}, "slurm": {"poll_seconds": 0.3},
         "stages": {"raw": {"kind": "test.read", "pattern": "data/sub-{subject}_ses-{session}.txt"}}}
        """)
        let aside = s.root.appendingPathComponent("aside")
        try FileManager.default.createDirectory(at: aside, withIntermediateDirectories: true)
        // The last two arguments are the element script and its list of keys.
        let shimmed = try sbatchShim(s, env: env) { real in """
            n=$#; i=0; args=""
            for a in "$@"; do i=$((i + 1)); if [ $i -eq $((n - 1)) ]; then script=$a; elif [ $i -eq $n ]; then list=$a; fi; done
            wrapper="$script.hiding"
            cat > "$wrapper" <<EOF
            #!/bin/sh
            sh '$script' "\\$1"; status=\\$?
            key=\\$(sed -n "\\$((SLURM_ARRAY_TASK_ID + 1))p" "\\$1" | cut -d' ' -f1)
            [ \\$status -eq 0 ] && mv '\(s.cache.path)/tasks/'"\\$key" '\(aside.path)/'"\\$key"
            exit \\$status
            EOF
            chmod +x "$wrapper"
            while [ $# -gt 2 ]; do args="$args '$1'"; shift; done
            eval exec \(real) $args "'$wrapper'" "'$list'"
            """ }
        let stderr = s.root.appendingPathComponent("latency.err")
        let run = try ToolHarness.start(["run", s.spec.path, "--executor", "slurm"],
                                        env: s.env.merging(shimmed) { _, b in b }, stderr: stderr)
        defer { if run.isRunning { run.terminate() } }
        XCTAssertTrue(ProcessWatch.poll(seconds: 60) {
            ((try? String(contentsOf: stderr, encoding: .utf8)) ?? "").contains("before its cache entry could be seen here") || !run.isRunning
        }, "the run never said it was waiting")
        XCTAssertTrue(run.isRunning, (try? String(contentsOf: stderr, encoding: .utf8)) ?? "")
        let hidden = try FileManager.default.contentsOfDirectory(atPath: aside.path)
        XCTAssertEqual(hidden.count, 1)
        for key in hidden { try FileManager.default.moveItem(at: aside.appendingPathComponent(key), to: s.cache.appendingPathComponent("tasks/\(key)")) }
        run.waitUntilExit()
        let text = (try? String(contentsOf: stderr, encoding: .utf8)) ?? ""
        XCTAssertEqual(run.terminationStatus, 0, text)
        XCTAssertEqual(text.components(separatedBy: "before its cache entry could be seen here").count, 2, "one warning: \(text)")
        let journalRun = try XCTUnwrap(try journal(s).last)
        XCTAssertEqual(events(journalRun, "finished", stage: "raw").count, 1)
    }

    /// A node without pipe at the driver's path fails every job alike: each says so on its
    /// stderr, with the path and the node, and the run reports it once for all its tasks.
    /// Simulated with an sbatch on PATH that submits the element script with another path.
    func testANodeWithoutPipeIsReportedOnce() throws {
        let env = try slurm()
        let s = try Study("slurm-no-binary")
        try s.writeScans(subjects: ["01", "02", "03"], sessions: ["1"])
        try s.writeSpec("""
        {"pipe": 1, "cohort": {"subjects": ["01", "02", "03"], "sessions": ["1"]}, "slurm": {"poll_seconds": 0.3},
         "stages": {"raw": {"kind": "test.read", "pattern": "data/sub-{subject}_ses-{session}.txt"}}}
        """)
        let pipe = URL(fileURLWithPath: ToolHarness.executable.path).resolvingSymlinksInPath().path
        let shimmed = try sbatchShim(s, env: env) { real in """
            n=$#; i=0; args=""
            for a in "$@"; do i=$((i + 1)); if [ $i -eq $((n - 1)) ]; then script=$a; elif [ $i -eq $n ]; then list=$a; fi; done
            sed 's|\(pipe)|/nonexistent/pipe|g' "$script" > "$script.moved"
            while [ $# -gt 2 ]; do args="$args '$1'"; shift; done
            eval exec \(real) $args "'$script.moved'" "'$list'"
            """ }
        let r = try s.tool("run", "$SPEC", "--executor", "slurm", env: shimmed, deadline: 60)
        XCTAssertNotEqual(r.status, 0)
        let summary = try XCTUnwrap(r.stderr.components(separatedBy: "pipe: failed:").last, r.stderr)
        XCTAssertEqual(summary.components(separatedBy: "has no executable /nonexistent/pipe: pipe must be at the same path on every node").count, 2,
                       "said once: \(summary)")
        XCTAssertTrue(summary.contains("the same error in 2 more tasks of raw"), summary)
        XCTAssertFalse(summary.contains("log: "), "no task log was written: \(summary)")
    }

    /// `--mem` is learned only from tasks that had a process to themselves: after a local run,
    /// where every task shares one process, a small stage's manifests record the process's peak
    /// (a big stage's 300 MiB), and a changed small stage asks for its own estimate, not 1.5 x that.
    func testMemoryIsNotLearnedFromALocalRunsSharedProcess() throws {
        let env = try slurm()
        let s = try Study("slurm-local-peak")
        try s.writeScans(subjects: ["01", "02"], sessions: ["1"])
        func spec(_ hold: Int) throws {
            try s.writeSpec("""
            {"pipe": 1, "cohort": {"subjects": ["01", "02"], "sessions": ["1"]}, "slurm": {"poll_seconds": 0.3},
             "stages": {"raw": {"kind": "test.read", "pattern": "data/sub-{subject}_ses-{session}.txt"},
                        "big": {"kind": "test.alloc", "from": "raw", "mb": 300, "memory": 400},
                        "small": {"kind": "test.alloc", "from": "big", "mb": 1, "hold_ms": \(hold), "memory": 80}}}
            """)
        }
        try spec(0)
        try s.runOK("--executor", "local", "--jobs", "1")
        let tasks = s.cache.appendingPathComponent("tasks")
        var smallPeaks: [Double] = []
        for key in try s.entries(of: "small").values {
            let m = try JSONSerialization.jsonObject(with: Data(contentsOf: tasks.appendingPathComponent("\(key)/manifest.json"))) as? [String: Any]
            smallPeaks.append((m?["peakRSS"] as? Double) ?? (m?["peak_rss"] as? Double) ?? -1)
        }
        XCTAssertTrue(smallPeaks.allSatisfy { $0 > 300 * 1_048_576 }, "the local run's manifests record the shared process's peak: \(smallPeaks)")
        try spec(10)
        let r = try s.tool("run", "$SPEC", "--executor", "slurm", env: env, deadline: 120)
        XCTAssertEqual(r.status, 0, r.stderr)
        let run = try XCTUnwrap(try journal(s).last)
        let asked = events(run, "submitted", stage: "small").compactMap { $0["memoryMiB"] as? Int }
        XCTAssertEqual(asked, [80, 80], "the stage's own estimate")
    }

    /// A stage's later tasks start with what its killed tasks were resubmitted with: with one
    /// task in the cluster at a time, the first is killed at the 100 MiB estimate and goes again
    /// with 200, and the other two ask for 200 at once (before, each was killed at 100 first).
    func testLaterTasksOfAStageStartWithTheMemoryAKillTaught() throws {
        let env = try slurm()
        let s = try Study("slurm-floor")
        try s.writeScans(subjects: ["01", "02", "03"], sessions: ["1"])
        try s.writeSpec("""
        {"pipe": 1, "cohort": {"subjects": ["01", "02", "03"], "sessions": ["1"]}, "slurm": {"poll_seconds": 0.3},
         "stages": {"raw": {"kind": "test.read", "pattern": "data/sub-{subject}_ses-{session}.txt"},
                    "big": {"kind": "test.alloc", "from": "raw", "mb": 150, "hold_ms": 2500, "memory": 100}}}
        """)
        let r = try s.tool("run", "$SPEC", "--executor", "slurm", "--jobs", "1", env: env, deadline: 180)
        XCTAssertEqual(r.status, 0, r.stderr)
        let run = try XCTUnwrap(try journal(s).last)
        let killed = events(run, "job-ended", stage: "big").filter { $0["state"] as? String == "OUT_OF_MEMORY" }
        XCTAssertEqual(killed.count, 1, "only the first task was killed: \(events(run, "job-ended", stage: "big"))")
        let asked = events(run, "submitted", stage: "big").compactMap { $0["memoryMiB"] as? Int }
        XCTAssertEqual(asked.count, 4, "\(asked)")
        XCTAssertEqual(asked.first, 100)
        XCTAssertTrue(asked.dropFirst().allSatisfy { $0 >= 200 }, "\(asked)")
        XCTAssertEqual(events(run, "finished", stage: "big").count, 3)
    }

    /// `squeue` backs off while the run's jobs run unchanged (the lesson of controllers brought
    /// down by polling): one job of 8 s at `poll_seconds` 0.3 is looked at a handful of times,
    /// not every 0.3 s (about 27 times).
    func testSqueueBacksOffWhileNothingChanges() throws {
        let env = try slurm()
        let s = try Study("slurm-backoff")
        try s.writeScans(subjects: ["01"], sessions: ["1"])
        try s.writeSpec("""
        {"pipe": 1, "cohort": {"subjects": ["01"], "sessions": ["1"]}, "slurm": {"poll_seconds": 0.3},
         "stages": {"raw": {"kind": "test.read", "pattern": "data/sub-{subject}_ses-{session}.txt"},
                    "slow": {"kind": "test.slow", "from": "raw", "ms": 8000}}}
        """)
        let r = try s.tool("run", "$SPEC", "--executor", "slurm", env: env, deadline: 120)
        XCTAssertEqual(r.status, 0, r.stderr)
        let calls = try XCTUnwrap(r.stderr.split(separator: "\n").first { $0.hasPrefix("slurm: ") }, r.stderr)
        let squeue = try XCTUnwrap(calls.split(separator: ",").first { $0.contains("squeue") }
            .flatMap { Int($0.trimmingCharacters(in: .whitespaces).split(separator: " ")[0]) }, String(calls))
        XCTAssertLessThanOrEqual(squeue, 14, "\(calls)")
        let run = try XCTUnwrap(try journal(s).last)
        XCTAssertEqual(events(run, "finished", stage: "slow").count, 1)
    }

    /// `scontrol` failing (a busy controller) when asked how a job ended is asked again at the
    /// next polls: a job cancelled by someone else is reported CANCELLED, not UNKNOWN (an unknown
    /// end is not resubmitted, where a node failure is).
    func testABusyScontrolIsAskedAgainHowAJobEnded() throws {
        let env = try slurm()
        let (s, _) = try gatedStudy("slurm-scontrol")
        let count = s.root.appendingPathComponent("scontrol-calls")
        let shimmed = try sbatchShim(s, env: env, tool: "scontrol") { real in """
            if [ "$1" = show ] && [ "$2" = job ]; then
                n=$(cat '\(count.path)' 2>/dev/null || echo 0)
                echo $((n + 1)) > '\(count.path)'
                if [ "$n" -lt 2 ]; then echo "slurm_load_jobs error: Socket timed out on send/recv operation" >&2; exit 1; fi
            fi
            exec \(real) "$@"
            """ }
        let (run, jobs) = try startGated(s, env: shimmed, stderr: "run.txt")
        let cancel = try runProcess("/usr/bin/env", ["scancel"] + jobs, environment: env)
        XCTAssertEqual(cancel.status, 0, cancel.output)
        guard ProcessWatch.waitForExit(run, seconds: 60, "run") else { return }
        let text = (try? String(contentsOf: s.root.appendingPathComponent("run.txt"), encoding: .utf8)) ?? ""
        XCTAssertNotEqual(run.terminationStatus, 0)
        let ended = events(try XCTUnwrap(try journal(s).last), "job-ended", stage: "slow").compactMap { $0["state"] as? String }
        XCTAssertEqual(ended, ["CANCELLED", "CANCELLED", "CANCELLED"], text)
        XCTAssertGreaterThan(Int(try String(contentsOf: count, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0, 2)
    }

    /// The environment of a run whose Slurm command `tool` (`sbatch` unless said) is a script in
    /// the study's `bin/`: `body` (shell, after `#!/bin/sh`) ends by running `real`, the cluster's
    /// command; it stands in for what a local cluster cannot do (a busy controller, a late entry,
    /// a node without pipe).
    func sbatchShim(_ s: Study, env: [String: String], tool: String = "sbatch", _ body: (_ real: String) -> String) throws -> [String: String] {
        let bin = s.root.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let real = try XCTUnwrap(["/usr/bin/\(tool)", "/usr/local/bin/\(tool)"].first { FileManager.default.isExecutableFile(atPath: $0) })
        try ("#!/bin/sh\n" + body(real) + "\n").write(to: bin.appendingPathComponent(tool), atomically: true, encoding: .utf8)
        chmod(bin.appendingPathComponent(tool).path, 0o755)
        return env.merging(["PATH": bin.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")]) { _, b in b }
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

    /// Starts the gated study, SIGKILLs its controller while the three jobs run, and starts a
    /// second run (with `extra` arguments) that adopts them: the second run and the jobs, or nil
    /// when the controller did not die.
    func adoptAfterKill(_ s: Study, env: [String: String], extra: [String] = []) throws -> (second: Process, jobs: [String])? {
        let (first, jobs) = try startGated(s, env: env, stderr: "first.txt")
        kill(first.processIdentifier, SIGKILL)
        guard ProcessWatch.waitForExit(first, seconds: 10, "killed controller") else { return nil }
        XCTAssertTrue(jobs.allSatisfy { (try? queued(env))?.contains("\($0) RUNNING") ?? false }, "the jobs outlive their controller")
        let second = try ToolHarness.start(["run", s.spec.path, "--executor", "slurm"] + extra, env: s.env.merging(env) { _, b in b },
                                           stderr: s.root.appendingPathComponent("second.txt"))
        XCTAssertTrue(ProcessWatch.poll(seconds: 60) {
            self.events((try? self.journal(s).last) ?? [], "attached", stage: "slow").count == 3
        }, "the second run did not adopt the three running jobs")
        return (second, jobs)
    }

    /// The controller is killed while its jobs run: they keep running, and the next run waits for
    /// them (attached) instead of submitting them again, then finishes.
    func testAKilledControllersJobsAreAdoptedNotDuplicated() throws {
        let env = try slurm()
        let (s, gate) = try gatedStudy("slurm-adopt")
        guard let (second, jobs) = try adoptAfterKill(s, env: env) else { return }
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

    /// A job adopted from a killed controller that then fails (here cancelled by someone else)
    /// is attached to once: the task's retry submits a new job, which runs. Before, the retry
    /// attached to the same dead job again and failed without running.
    func testARetryOfAnAdoptedJobSubmitsANewOne() throws {
        let env = try slurm()
        let (s, gate) = try gatedStudy("slurm-adopt-retry")
        guard let (second, jobs) = try adoptAfterKill(s, env: env, extra: ["--retries", "1"]) else { return }
        let cancel = try runProcess("/usr/bin/env", ["scancel"] + jobs, environment: env)
        XCTAssertEqual(cancel.status, 0, cancel.output)
        try Data().write(to: gate)
        guard ProcessWatch.waitForExit(second, seconds: 120, "second run") else { return }
        XCTAssertEqual(second.terminationStatus, 0, (try? String(contentsOf: s.root.appendingPathComponent("second.txt"), encoding: .utf8)) ?? "")
        let run = try XCTUnwrap(try journal(s).last)
        let resubmitted = events(run, "submitted", stage: "slow")
        XCTAssertEqual(resubmitted.count, 3, "each retry is a new job: \(resubmitted)")
        XCTAssertTrue(resubmitted.allSatisfy { !jobs.contains($0["job"] as? String ?? "") })
        XCTAssertEqual(events(run, "attached", stage: "slow").count, 3, "attached once each")
        XCTAssertEqual(events(run, "finished", stage: "slow").count, 3)
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
