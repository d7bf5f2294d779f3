import Foundation

/// Runs tasks as Slurm job-array elements, each `pipe worker` on one task of the cache (which
/// must be on a file system the nodes share).
///
/// - **Submission:** the tasks the scheduler starts together (``TaskExecutor/prepare(_:)``) go
///   as one array per stage and resources, split at the cluster's `MaxArraySize` (from
///   `scontrol show config`), throttled with `%N` when the spec says so. Each element reads its
///   key from a list file. `--cpus-per-task` is the task's thread budget, `--mem` the largest
///   peak that earlier runs of the stage measured times `memory_margin` (else the kind's
///   estimate), `--time` the spec's, else three times the longest earlier run (at least 5
///   minutes), else an hour.
/// - **Watching:** one `squeue` call for all of the run's jobs (found by job name), every poll after
///   a change and backing off to `maxQueueInterval` while nothing changes.
///   An element that left the queue succeeded if its cache entry is complete; failed on its own
///   error if its status file holds an exit code (retried only by `--retries`); otherwise it was
///   killed, and `scontrol` and its stderr say why: an out-of-memory kill is resubmitted with
///   twice the memory, a time-limit kill with twice the time (up to `max_memory`, `max_time`),
///   a node failure or preemption as it was (up to 3 times).
/// - **Recovery:** every submission is journalled with its job id. A new run reads the journals,
///   asks `squeue` once which of those jobs are still queued or running, and waits for them
///   instead of submitting duplicates. Two workers of one key publish the same bytes, and the
///   cache keeps the first.
/// - **Cancellation:** the first cancelled task cancels every job of the run, in one `scancel`.
public final class SlurmExecutor: TaskExecutor, @unchecked Sendable {
    /// One task handed to the executor, with the resources of its next submission.
    struct Element {
        var task: TaskDescription
        var attempt: Int
        var cpus: Int
        var memoryMiB: Int
        var minutes: Int
        var resubmissions = 0
        var job: String?
        /// The run folder holding the job's stderr and status file: an earlier run's for a job
        /// this run attached to, else nil (this run's).
        var folder: URL?
        /// Until when a job that ended well may take to show its cache entry (``entryWaitSeconds``).
        var entryDeadline: Date?
        /// When `sbatch` first failed for this element with an error that may pass, if it did.
        var submitFailingSince: Date?
        /// How many times `scontrol` failed to say how the job ended (``stateQueryTries``).
        var stateQueries = 0
        var continuation: CheckedContinuation<Manifest, Error>
    }

    private struct State {
        var batches: [[String]] = []
        var waiting: [String: Element] = [:]
        /// Complete batches and resubmissions, submitted at the next poll: the tasks that become
        /// ready while jobs run go out together, as one array per stage.
        var pending: [Element] = []
        var active: [String: Element] = [:]  // by job id `<array>_<index>`
        var polling = false
        var cancelled = false
        var submissions = 0
        /// Jobs of earlier runs still queued or running, by task key, with their run's folder:
        /// each is attached to once, when its task arrives (a resubmission is a new job).
        var adopted: [String: (job: String, folder: URL)] = [:]
        /// Whether a job's entry has been waited for (``entryWaitSeconds``): said once per run.
        var awaitedEntry = false
        /// The entries made durable for jobs (``CacheStore/makeDurable(_:)``): a Slurm run leaves
        /// nothing unsynced, so each is looked at once.
        var durable: Set<String> = []
    }

    let cache: CacheStore
    let executable: URL
    let settings: SlurmSettings
    let client: SlurmClient
    let jobName: String
    let directory: URL
    let emit: @Sendable (RunEvent) -> Void
    private let state = Locked(State())
    /// The tasks whose jobs, submitted by an earlier run, were still queued or running when this
    /// run started: their temporary folders in the cache are theirs.
    public let adoptedKeys: Set<String>
    private let stageRecords: Locked<[String: (peak: UInt64, seconds: Double)?]> = Locked([:])
    /// Per stage, what this run has taught: the memory and time a killed task of the stage was
    /// resubmitted with, and the memory its finished tasks measured (times the margin). Its later
    /// tasks start there rather than be killed at the estimate too.
    private let floors: Locked<[String: (memoryMiB: Int, minutes: Int)]> = Locked([:])
    private let study: String
    private let maxArraySize: Int

    /// - Parameters:
    ///   - study: the study's identity (`CacheStore.studyIdentity`): its jobs are named after it.
    ///   - runID: the run's id; the run's job scripts, lists, logs and status files go to
    ///     `<cache>/slurm/<runID>/`.
    ///   - emit: where the executor's events go (the run's observers).
    public init(cache: CacheStore, executable: URL, settings: SlurmSettings, study: String, runID: String,
                client: SlurmClient = SlurmClient(), emit: @escaping @Sendable (RunEvent) -> Void) throws {
        self.cache = cache
        self.executable = executable
        self.settings = settings
        self.client = client
        self.study = study
        self.jobName = "pipe-" + String(study.prefix(12))
        self.directory = cache.root.appendingPathComponent("slurm/\(runID)")
        self.emit = emit
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("status"), withIntermediateDirectories: true)
        maxArraySize = try client.maxArraySize()
        let adopted = try Self.recoverable(cache: cache, client: client, jobName: jobName)
        adoptedKeys = Set(adopted.keys)
        state.withLock { $0.adopted = adopted }
        let script = """
            #!/bin/sh
            # pipe's job-array element: the task key and attempt on line SLURM_ARRAY_TASK_ID + 1 of $1.
            line=$(sed -n "$((SLURM_ARRAY_TASK_ID + 1))p" "$1")
            key=${line%% *}
            attempt=${line##* }
            # A node without pipe at this path fails every job alike: one message, without the job id.
            if [ ! -x \(Self.quote(executable.path)) ]; then
                echo "pipe: a job's node has no executable "\(Self.quote(executable.path))": pipe must be at the same path on every node" >&2
                echo 127 > \(Self.quote(directory.appendingPathComponent("status").path))/"${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}"
                exit 127
            fi
            \(Self.quote(executable.path)) worker --cache \(Self.quote(cache.root.path)) --attempt "$attempt" "$key"
            status=$?
            echo "$status" > \(Self.quote(directory.appendingPathComponent("status").path))/"${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}"
            exit "$status"

            """
        try FileSystem.write(Array(script.utf8), to: directory.appendingPathComponent("element.sh").path, sync: false)
    }

    // MARK: - TaskExecutor

    public func prepare(_ batch: [TaskDescription]) {
        state.withLock { s in
            s.batches.append(batch.map(\.key))
            s.pending += takeCompleteBatches(&s)
        }
        startPolling()
    }

    public func execute(_ task: TaskDescription, attempt: Int) async throws -> Manifest {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Manifest, Error>) in
                let resources = self.resources(for: task)
                let element = Element(task: task, attempt: attempt, cpus: task.threads, memoryMiB: resources.memoryMiB,
                                      minutes: resources.minutes, continuation: c)
                let accepted = state.withLock { s -> Bool in
                    if s.cancelled { return false }
                    s.waiting[task.key] = element
                    s.pending += takeCompleteBatches(&s)
                    return true
                }
                guard accepted else { return c.resume(throwing: PipeError(.interrupted, "cancelled")) }
                startPolling()
            }
        } onCancel: {
            self.cancelAll()
        }
    }

    /// The batches whose every task has arrived, removed from the state, in order.
    private func takeCompleteBatches(_ s: inout State) -> [Element] {
        var out: [Element] = []
        while let first = s.batches.first, first.allSatisfy({ s.waiting[$0] != nil }) {
            s.batches.removeFirst()
            for key in first { out.append(s.waiting.removeValue(forKey: key)!) }
        }
        return out
    }

    // MARK: - Submitting

    /// Attaches to a still-running job of an earlier run, or submits: one array per stage and
    /// resources, in chunks of `MaxArraySize`.
    private func submit(_ elements: [Element]) {
        guard !elements.isEmpty else { return }
        var fresh: [Element] = []
        for var e in elements {
            if let (job, folder) = state.withLock({ $0.adopted.removeValue(forKey: e.task.key) }) {
                e.job = job
                e.folder = folder
                emit(.attached(stage: e.task.stage, scope: e.task.scope, key: e.task.key, job: job))
                if !watch(e, job: job) { _ = try? client.run("scancel", [job]) }
            } else {
                fresh.append(e)
            }
        }
        var groups: [String: [Element]] = [:]
        var order: [String] = []
        for e in fresh {
            let g = "\(e.task.stage) \(e.cpus) \(e.memoryMiB) \(e.minutes)"
            if groups[g] == nil { order.append(g) }
            groups[g, default: []].append(e)
        }
        for g in order {
            let all = groups[g]!
            for start in stride(from: 0, to: all.count, by: maxArraySize) {
                submitArray(Array(all[start..<min(all.count, start + maxArraySize)]))
            }
        }
    }

    private func submitArray(_ elements: [Element]) {
        // A run cancelled while earlier arrays of this poll went in submits no more.
        if state.withLock({ $0.cancelled }) {
            for e in elements { e.continuation.resume(throwing: PipeError(.interrupted, "cancelled")) }
            return
        }
        let first = elements[0]
        let number = state.withLock { s -> Int in s.submissions += 1; return s.submissions }
        let list = directory.appendingPathComponent("array-\(number).keys")
        var args = ["--parsable", "--job-name=\(jobName)", "--array=0-\(elements.count - 1)" + (settings.throttle.map { "%\($0)" } ?? ""),
                    "--cpus-per-task=\(first.cpus)", "--mem=\(first.memoryMiB)M", "--time=\(first.minutes)",
                    "--output=\(directory.path)/%A_%a.out", "--error=\(directory.path)/%A_%a.err"]
        if let p = settings.partition { args.append("--partition=\(p)") }
        if let a = settings.account { args.append("--account=\(a)") }
        if let q = settings.qos { args.append("--qos=\(q)") }
        args += settings.sbatch + [directory.appendingPathComponent("element.sh").path, list.path]
        do {
            // Data an earlier run on this machine left unsynced (`keep: false`) is fsynced before
            // a job on another machine reads it, which would otherwise count it as lost.
            let inputs = state.withLock { s in Set(elements.flatMap { $0.task.inputs.map(\.key) }).subtracting(s.durable) }
            for key in inputs.sorted() { try cache.makeDurable(key) }
            state.withLock { $0.durable.formUnion(inputs) }
            try FileSystem.write(Array(elements.map { "\($0.task.key) \($0.attempt)\n" }.joined().utf8), to: list.path, sync: false)
            let r = try client.run("sbatch", args)
            guard r.status == 0, let id = r.out.split(separator: ";").first.map({ $0.trimmingCharacters(in: .whitespacesAndNewlines) }), Int(id) != nil else {
                let error = r.err.trimmingCharacters(in: .whitespacesAndNewlines)
                if submissionMayPass(error, elements: elements) { return }
                throw PipeError(.taskFailed, "sbatch failed (status \(r.status)): \(error)")
            }
            // A run cancelled while sbatch ran (Ctrl-C) did not see this array: cancel it here.
            let watched = state.withLock { s -> Bool in
                if s.cancelled { return false }
                for (i, var e) in elements.enumerated() {
                    e.job = "\(id)_\(i)"
                    e.submitFailingSince = nil
                    s.active[e.job!] = e
                }
                return true
            }
            if !watched {
                _ = try? client.run("scancel", [id])
                for e in elements { e.continuation.resume(throwing: PipeError(.interrupted, "cancelled")) }
                return
            }
            for (i, e) in elements.enumerated() {
                emit(.submitted(stage: e.task.stage, scope: e.task.scope, key: e.task.key, job: "\(id)_\(i)", cpus: e.cpus,
                                memoryMiB: e.memoryMiB, minutes: e.minutes, attempt: e.attempt, resubmission: e.resubmissions))
            }
        } catch {
            let cancelled = state.withLock { $0.cancelled }
            let e = cancelled ? PipeError(.interrupted, "cancelled") : error as? PipeError ?? PipeError(.io, "\(error)")
            for element in elements { element.continuation.resume(throwing: e) }
        }
    }

    /// How long `sbatch` may fail with an error that may pass before the run gives up on it.
    static let submitRetrySeconds: TimeInterval = 600

    /// Whether an `sbatch` error may pass, in which case the elements go back to be submitted at
    /// a later poll (and true is returned). The error is its last line (sbatch prints its own
    /// retries before it). A limit on submitted jobs is waited out while jobs of this run are
    /// queued: they leave the queue in time. A controller too busy to answer is asked again for
    /// `submitRetrySeconds` from the first such failure. Slurm words a job over a QOS's size or
    /// time limit as it words a submit limit, so such a job fails when the run's other jobs have
    /// ended. A submission that timed out may still have gone in; a duplicate job of a task
    /// publishes the same bytes, and the cache keeps the first.
    private func submissionMayPass(_ error: String, elements: [Element]) -> Bool {
        let last = error.split(separator: "\n").last { !$0.trimmingCharacters(in: .whitespaces).isEmpty }.map { $0.lowercased() } ?? ""
        let busy = ["socket timed out", "temporarily unavailable", "temporarily unable", "try again", "unable to contact slurm controller",
                    "connection refused", "slurm_persist_conn", "communication connection failure"].contains { last.contains($0) }
        let limit = ["submit limit", "maxsubmitjob", "maxjobcount", "job count", "qos policy"].contains { last.contains($0) }
        guard busy || limit else { return false }
        let now = Date()
        let again = state.withLock { s -> Bool in
            if s.cancelled { return false }
            let since = elements.compactMap(\.submitFailingSince).min() ?? now
            let waitForRoom = limit && !s.active.isEmpty
            let askAgain = busy && now.timeIntervalSince(since) <= Self.submitRetrySeconds
            guard waitForRoom || askAgain else { return false }
            for var e in elements {
                e.submitFailingSince = e.submitFailingSince ?? now
                s.pending.append(e)
            }
            return true
        }
        if again && elements.allSatisfy({ $0.submitFailingSince == nil }) {
            emit(.warning("sbatch failed, submitting again at the next poll: \(error)"))
        }
        return again
    }

    /// `--mem` and `--time` of a task's first submission.
    private func resources(for task: TaskDescription) -> (memoryMiB: Int, minutes: Int) {
        let record = stageRecords.withLock { records -> (peak: UInt64, seconds: Double)? in
            if let known = records[task.stage] { return known }
            var peak: UInt64 = 0, seconds = 0.0
            // The manifest is the measurement, whatever became of the data: an entry of a
            // `keep: false` stage, whose files were dropped, still says what its task needed.
            // A peak counts only from a task that had its process to itself (a worker or a job:
            // `cpuSeconds` is recorded then): the local executor's peak is its whole process's.
            for key in cache.readIndex(study: study, stage: task.stage).values {
                guard let m = cache.manifest(for: key) else { continue }
                if m.cpuSeconds != nil { peak = max(peak, m.peakRSS) }
                seconds = max(seconds, m.seconds)
            }
            let found: (peak: UInt64, seconds: Double)? = peak > 0 || seconds > 0 ? (peak, seconds) : nil
            records[task.stage] = .some(found)
            return found
        }
        let memoryMiB = record.flatMap { $0.peak > 0 ? requestMiB(peak: $0.peak) : nil } ?? requestMiB(bytes: task.memory)
        let minutes = settings.minutes ?? record.map { max(5, Int((3 * $0.seconds / 60).rounded(.up))) } ?? SlurmSettings.defaultMinutes
        let floor = floors.withLock { $0[task.stage] } ?? (memoryMiB: 0, minutes: 0)
        return (max(memoryMiB, floor.memoryMiB), min(max(minutes, floor.minutes), settings.maxMinutes))
    }

    private func raiseFloor(_ stage: String, memoryMiB: Int = 0, minutes: Int = 0) {
        floors.withLock { f in
            let old = f[stage] ?? (memoryMiB: 0, minutes: 0)
            f[stage] = (max(old.memoryMiB, memoryMiB), max(old.minutes, minutes))
        }
    }

    /// The `--mem` for a measured peak: times `memory_margin`, in whole MiB, at least 64, at most
    /// `max_memory`.
    private func requestMiB(peak: UInt64) -> Int { requestMiB(bytes: UInt64(Double(peak) * settings.memoryMargin)) }

    private func requestMiB(bytes: UInt64) -> Int { min(settings.maxMemoryMiB, max(64, Int((bytes + (1 << 20) - 1) >> 20))) }

    // MARK: - Watching

    private func startPolling() {
        let start = state.withLock { s -> Bool in
            guard !s.polling, !s.active.isEmpty || !s.pending.isEmpty else { return false }
            s.polling = true
            return true
        }
        guard start else { return }
        Task.detached { [self] in await self.poll() }
    }

    /// Per interval: submit what is pending, then one `squeue` for all of the run's jobs; until
    /// nothing is pending or queued.
    private func poll() async {
        var first = true
        var squeueFailures = 0
        // `squeue` backs off while nothing changes: the interval doubles from `poll_seconds` up
        // to `maxQueueInterval`, and is back to `poll_seconds` once a job leaves the queue or an
        // array goes in. Submissions are not held back: pending tasks go at every tick.
        var interval = settings.pollSeconds
        var sinceQueue = 0.0
        while true {
            // The first submission goes at once; later ones gather for an interval.
            if !first {
                try? await Task.sleep(nanoseconds: UInt64(settings.pollSeconds * 1e9))
                sinceQueue += settings.pollSeconds
            }
            first = false
            let pending = state.withLock { s -> [Element] in defer { s.pending = [] }; return s.cancelled ? [] : s.pending }
            submit(pending)
            if !pending.isEmpty { interval = settings.pollSeconds }
            let watched = state.withLock { s -> [String] in
                if (s.active.isEmpty && s.pending.isEmpty) || s.cancelled { s.polling = false; return [] }
                return Array(s.active.keys)
            }
            if watched.isEmpty {
                if state.withLock({ !$0.polling }) { return }
                continue
            }
            if sinceQueue + 1e-9 < interval { continue }
            sinceQueue = 0
            let queued: [String: (state: String, reason: String)]
            do {
                queued = try client.queued(jobName: jobName)
                squeueFailures = 0
            } catch {
                // A busy controller: the jobs are looked at again at the next poll. Said once
                // per spell of five failures in a row, so a controller that is gone is not silent.
                squeueFailures += 1
                if squeueFailures == 5 { emit(.warning("squeue has failed 5 times in a row; still waiting for the run's jobs: \(error)")) }
                continue
            }
            for job in watched.sorted() {
                if let q = queued[job] {
                    // A job held for a reason that cannot clear would be waited for for ever.
                    guard q.state == "PENDING", let why = Self.neverStarts(reason: q.reason),
                          let element = state.withLock({ $0.active.removeValue(forKey: job) }) else { continue }
                    _ = try? client.run("scancel", [job])
                    emit(.jobEnded(stage: element.task.stage, scope: element.task.scope, key: element.task.key, job: job,
                                   state: "PENDING (\(q.reason))", action: "cancelled: it cannot start"))
                    element.continuation.resume(throwing: PipeError(.taskFailed,
                        "Slurm will not start the job (pending: \(q.reason)): \(why) (asked for \(element.cpus) CPUs, \(element.memoryMiB) MiB, \(element.minutes) min)"))
                    continue
                }
                guard let element = state.withLock({ $0.active.removeValue(forKey: job) }) else { continue }
                resolve(element, job: job)
            }
            let left = watched.contains { queued[$0] == nil }
            interval = left ? settings.pollSeconds : min(interval * 2, max(settings.pollSeconds, Self.maxQueueInterval))
        }
    }

    /// The longest interval between two `squeue` calls while the run's jobs run unchanged.
    static let maxQueueInterval: TimeInterval = 30

    /// Why a job pending for `reason` will never start, or nil when the reason can clear (the
    /// cluster is busy, a limit on running jobs, a node down, a hold that a person can release;
    /// `PartitionNodeLimit` too, which Slurm also gives while the nodes it needs are drained).
    /// Slurm keeps such a job pending for ever when `EnforcePartLimits` is NO (its default).
    static func neverStarts(reason: String) -> String? {
        switch reason {
        case "PartitionTimeLimit": return "its time limit is over the partition's MaxTime; set slurm.time or slurm.max_time below it"
        case "PartitionConfig": return "its request is over what the partition allows"
        case "BadConstraints": return "no node can satisfy its request"
        case "InvalidAccount", "InvalidQOS", "AccountNotAllowed", "QOSNotAllowed": return "its account or QOS is not valid for it; see slurm.account, slurm.qos, slurm.partition"
        case "DependencyNeverSatisfied": return "a dependency in slurm.sbatch can never be satisfied"
        case "launch failed requeued held": return "a node failed to launch it and Slurm held it"
        default:
            let perJob = (reason.hasPrefix("QOSMax") || reason.hasPrefix("AssocMax")) && (reason.contains("PerJob") || reason.contains("PerNode"))
            if perJob && (reason.contains("WallDuration") || reason.contains("Time")) {
                return "its time limit is over a per-job limit of its QOS or association; set slurm.time or slurm.max_time below it"
            }
            if perJob && reason.contains("Mem") { return "its memory is over a per-job limit of its QOS or association; set slurm.max_memory below it" }
            return perJob ? "its request is over a per-job limit of its QOS or association" : nil
        }
    }

    /// How long a job that ended well may take to show its cache entry to this machine: on a
    /// network file system the entry, renamed into place on the node, can stay invisible here
    /// for as long as the client caches that it was absent (NFS: up to a minute).
    static let entryWaitSeconds: TimeInterval = 120

    /// What became of a job that left the queue.
    private func resolve(_ e: Element, job: String) {
        let key = e.task.key
        func ended(_ state: String, _ action: String) {
            emit(.jobEnded(stage: e.task.stage, scope: e.task.scope, key: key, job: job, state: state, action: action))
        }
        if let manifest = cache.completeEntry(for: key) {
            ended("COMPLETED", "published")
            // The stage's later tasks ask for at least the memory this one measured (times the
            // margin), as a later run's would; the time limit learns only across runs.
            if manifest.cpuSeconds != nil { raiseFloor(e.task.stage, memoryMiB: requestMiB(peak: manifest.peakRSS)) }
            return e.continuation.resume(returning: manifest)
        }
        let folder = e.folder ?? directory
        let errFile = folder.appendingPathComponent("\(job).err").path
        let stderrText = try? String(contentsOfFile: errFile, encoding: .utf8)
        let stderr = stderrText ?? ""
        let lower = stderr.lowercased()
        let memory = lower.contains("exceeded job memory limit") || lower.contains("exceeded memory limit") || lower.contains("oom-kill") || lower.contains("oom_kill")
        let time = stderr.contains("DUE TO TIME LIMIT")
        let code = (try? String(contentsOfFile: folder.appendingPathComponent("status/\(job)").path, encoding: .utf8))
            .flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        // The job ended well but its entry is not visible here yet: look again at later polls.
        func awaitEntry() {
            let now = Date()
            let deadline = e.entryDeadline ?? now.addingTimeInterval(Self.entryWaitSeconds)
            if now < deadline {
                var waiting = e
                waiting.entryDeadline = deadline
                let first = state.withLock { s -> Bool in defer { s.awaitedEntry = true }; return !s.awaitedEntry }
                watch(waiting, job: job)
                if first {
                    emit(.warning("job \(job) ended with exit status 0 before its cache entry could be seen here (a network file system's cache?): "
                                  + "waiting up to \(Int(Self.entryWaitSeconds)) s for it, and so for any other job"))
                }
                return
            }
            ended("COMPLETED", "failed: no cache entry")
            e.continuation.resume(throwing: PipeError(.taskFailed,
                "job \(job) ended with exit status 0, but its cache entry did not appear here within \(Int(Self.entryWaitSeconds)) s: "
                + "the cache (\(cache.root.path)) must be on a file system that the nodes and this machine share"))
        }
        // The worker's own failure: an exit status below 128 (a signal gives 128 + n, and the
        // job's shell may outlive a worker that Slurm killed for memory).
        if !memory && !time, let code, code < 128 {
            if code == 0 { return awaitEntry() }
            ended("FAILED", "worker exit status \(code)")
            let message = stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            return e.continuation.resume(throwing: PipeError(.taskFailed, message.isEmpty ? "worker exited with status \(code) (job \(job))" : message))
        }
        // The job's stderr names memory and time kills; otherwise Slurm's record says what happened.
        let reported: String
        if memory { reported = "OUT_OF_MEMORY" } else if time { reported = "TIMEOUT" } else {
            do { reported = try client.jobState(job) } catch {
                // A busy controller: ask again at the next polls before taking the end as unknown
                // (which a node failure, resubmitted when known, is not).
                if e.stateQueries < Self.stateQueryTries {
                    var again = e
                    again.stateQueries += 1
                    watch(again, job: job)
                    return
                }
                reported = "UNKNOWN"
            }
        }
        if reported == "COMPLETED" && code == nil { return awaitEntry() }
        var next = e
        next.job = nil
        next.folder = nil
        next.entryDeadline = nil
        next.resubmissions += 1
        // A memory or time kill goes again with twice the resource, or the cap when that is less;
        // at the cap it fails.
        func doubled(_ current: Int, cap: Int, unit: String, setting: String, set: (inout Element, Int) -> Void, floor: (Int) -> Void) {
            let target = min(current * 2, cap)
            if target > current {
                set(&next, target)
                floor(target)
                ended(reported, "resubmitted with \(target) \(unit)")
                return resubmit(next)
            }
            ended(reported, "failed: \(current) \(unit) is \(setting)")
            e.continuation.resume(throwing: PipeError(.taskFailed, "killed at \(current) \(unit) (\(reported), job \(job)), which is slurm.\(setting): raise it to run the task"))
        }
        if reported == "OUT_OF_MEMORY" {
            return doubled(e.memoryMiB, cap: settings.maxMemoryMiB, unit: "MiB", setting: "max_memory", set: { $0.memoryMiB = $1 },
                           floor: { raiseFloor(e.task.stage, memoryMiB: $0) })
        }
        if reported == "TIMEOUT" {
            return doubled(e.minutes, cap: settings.maxMinutes, unit: "min", setting: "max_time", set: { $0.minutes = $1 },
                           floor: { raiseFloor(e.task.stage, minutes: $0) })
        }
        if ["NODE_FAIL", "PREEMPTED", "BOOT_FAIL", "REQUEUED"].contains(reported) || stderr.contains("DUE TO PREEMPTION") || stderr.contains("DUE TO NODE FAILURE") {
            if e.resubmissions < 3 {
                ended(reported, "resubmitted")
                return resubmit(next)
            }
        }
        let cancelled = state.withLock { $0.cancelled }
        ended(reported, cancelled ? "cancelled by this run" : "failed")
        if cancelled { return e.continuation.resume(throwing: PipeError(.interrupted, "cancelled")) }
        if stderrText == nil {
            // A job that ran left a stderr file, unless its node could not write into the cache.
            if reported == "FAILED" || reported == "COMPLETED" {
                return e.continuation.resume(throwing: PipeError(.taskFailed,
                    "a job ended \(reported) without writing its stderr or exit status into \(folder.path): "
                    + "the cache (\(cache.root.path)) must be on a file system that the nodes share, at the same path"))
            }
            return e.continuation.resume(throwing: PipeError(.taskFailed, "job \(job) ended \(reported) before it started (no stderr)"))
        }
        let tail = stderr.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").suffix(5).joined(separator: "\n")
        e.continuation.resume(throwing: PipeError(.taskFailed, "job \(job) ended \(reported) without an exit status" + (tail.isEmpty ? "" : ":\n\(tail)")))
    }

    /// How many times `scontrol` may fail to give an ended job's state before it counts as unknown.
    static let stateQueryTries = 5

    /// Puts an element among the watched under `job` (an attached job, or one that left the queue
    /// and is to be resolved again at the next poll); a cancelled run resumes it as interrupted
    /// instead, and false is returned.
    @discardableResult
    private func watch(_ e: Element, job: String) -> Bool {
        let watched = state.withLock { s -> Bool in
            if s.cancelled { return false }
            s.active[job] = e
            return true
        }
        if !watched { e.continuation.resume(throwing: PipeError(.interrupted, "cancelled")) }
        return watched
    }

    private func resubmit(_ e: Element) {
        let accepted = state.withLock { s -> Bool in
            if s.cancelled { return false }
            s.pending.append(e)
            return true
        }
        if !accepted { e.continuation.resume(throwing: PipeError(.interrupted, "cancelled")) }
    }

    // MARK: - Cancelling

    /// Cancels every job of the run in one `scancel`, and fails every task it holds as interrupted.
    public func cancelAll() {
        let (elements, arrays) = state.withLock { s -> ([Element], [String]) in
            guard !s.cancelled else { return ([], []) }
            s.cancelled = true
            let all = Array(s.active.values) + Array(s.waiting.values) + s.pending
            let arrays = Set(s.active.keys.compactMap { $0.split(separator: "_").first.map(String.init) })
            s.active = [:]
            s.waiting = [:]
            s.pending = []
            return (all, arrays.sorted())
        }
        if !arrays.isEmpty { _ = try? client.run("scancel", arrays) }
        for e in elements { e.continuation.resume(throwing: PipeError(.interrupted, "cancelled")) }
    }

    // MARK: - Recovery

    /// The jobs earlier runs submitted, by task key, that are still queued or running, with the
    /// folder of the run that submitted each.
    static func recoverable(cache: CacheStore, client: SlurmClient, jobName: String) throws -> [String: (job: String, folder: URL)] {
        let folder = cache.journalPath
        var submitted: [String: (job: String, folder: URL)] = [:]
        for name in ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted() where name.hasSuffix(".jsonl") {
            guard let text = try? String(contentsOfFile: folder + "/" + name, encoding: .utf8), text.contains("\"submitted\"") else { continue }
            for line in text.split(separator: "\n") where line.contains("\"event\":\"submitted\"") {
                guard let event = try? JSONValue.parse(String(line)), let key = event["key"]?.stringValue,
                      let job = event["job"]?.stringValue else { continue }
                submitted[key] = (job, cache.root.appendingPathComponent("slurm/" + name.dropLast(".jsonl".count)))
            }
        }
        guard !submitted.isEmpty else { return [:] }
        let queued = try client.queued(jobName: jobName)
        return submitted.filter { queued[$0.value.job] != nil }
    }

    static func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
}

/// Runs Slurm's commands (`sbatch`, `squeue`, `scontrol`, `scancel`, found on `PATH`) and
/// counts the calls.
public final class SlurmClient: Sendable {
    private let counts = Locked<[String: Int]>([:])

    public init() {}

    /// Calls so far, by command.
    public var calls: [String: Int] { counts.withLock { $0 } }

    /// Runs `tool` with `args`; its exit status, stdout and stderr.
    public func run(_ tool: String, _ args: [String]) throws -> (status: Int32, out: String, err: String) {
        counts.withLock { $0[tool, default: 0] += 1 }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [tool] + args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        do { try p.run() } catch { throw PipeError(.io, "cannot run \(tool): \(error)") }
        // stderr is read on another thread while stdout is read here: a tool that fills one pipe
        // while the other is being drained would otherwise wait for ever.
        let e = Locked(Data())
        let stderrRead = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            let data = err.fileHandleForReading.readDataToEndOfFile()
            e.withLock { $0 = data }
            stderrRead.signal()
        }
        let o = out.fileHandleForReading.readDataToEndOfFile()
        stderrRead.wait()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e.withLock { $0 }, as: UTF8.self))
    }

    /// The cluster's `MaxArraySize`: an array's indices must stay below it (1001 when not shown).
    func maxArraySize() throws -> Int {
        let r = try run("scontrol", ["show", "config"])
        guard r.status == 0 else { throw PipeError(.io, "scontrol show config failed: \(r.err.trimmingCharacters(in: .whitespacesAndNewlines)); is Slurm reachable (SLURM_CONF)?") }
        for line in r.out.split(separator: "\n") where line.hasPrefix("MaxArraySize") {
            if let v = line.split(separator: "=").last.flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }), v > 0 { return v }
        }
        return 1001
    }

    /// The queued and running elements of the user's jobs named `jobName`: `<array>_<index>` →
    /// state and reason (`None` for a running job; a reason may hold spaces).
    func queued(jobName: String) throws -> [String: (state: String, reason: String)] {
        let r = try run("squeue", ["-h", "-r", "-n", jobName, "-u", NSUserName(), "-o", "%i %T %r"])
        guard r.status == 0 else { throw PipeError(.io, "squeue failed: \(r.err)") }
        var out: [String: (state: String, reason: String)] = [:]
        for line in r.out.split(separator: "\n") {
            let f = line.split(separator: " ", maxSplits: 2)
            if f.count >= 2 { out[String(f[0])] = (String(f[1]), f.count == 3 ? String(f[2]).trimmingCharacters(in: .whitespaces) : "") }
        }
        return out
    }

    /// A finished job's state from `scontrol show job` (`UNKNOWN` once Slurm has forgotten it).
    /// - Throws: when `scontrol` failed otherwise (a busy controller): the state may still be known.
    func jobState(_ job: String) throws -> String {
        let r = try run("scontrol", ["show", "job", "-o", job])
        if r.status == 0 {
            guard let field = r.out.split(separator: " ").first(where: { $0.hasPrefix("JobState=") }) else { return "UNKNOWN" }
            return String(field.dropFirst("JobState=".count))
        }
        if r.err.lowercased().contains("invalid job id") { return "UNKNOWN" }
        throw PipeError(.io, "scontrol show job \(job) failed: \(r.err.trimmingCharacters(in: .whitespacesAndNewlines))")
    }
}
