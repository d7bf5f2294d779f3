import CThreadBudget
import Foundation

/// Executes one described task in the current process: builds its context from the cache, runs the
/// kind, and publishes the entry atomically. Shared by the local executor and `pipe worker`.
public struct TaskRunner: Sendable {
    /// The cache.
    public let cache: CacheStore
    /// The kinds.
    public let registry: StageRegistry
    /// The most threads a task gets here, whatever its `threads` (the run's `--cores`; a
    /// worker's cores).
    public let maxThreads: Int
    /// The task runs alone in this process (`pipe worker`), so the process's CPU time over the
    /// task is the task's: recorded in the manifest as `cpuSeconds`.
    public let aloneInProcess: Bool
    /// This machine's boot id when the run and every task that reads this one's outputs are on
    /// this machine (the local and worker executors; not Slurm): then the outputs are published
    /// without fsync, their entry recording this boot id, and the run makes them durable in the
    /// background (``DeferredSync``), except those a transient task's kind drops
    /// (``TaskDescription/transient``), which are never written back. Only a crash of the
    /// machine can lose unsynced data, and it changes the boot id, so after one they count as
    /// dropped (``CacheStore/entryState(for:tasks:)``). `nil`: every output is fsynced before the
    /// task's entry is published.
    public let unsyncedBoot: String?
    /// The dropped files that large mapped outputs may reuse, when the run is on this machine
    /// (``SpareFiles``); `nil` otherwise.
    let spares: SpareFiles?

    /// - Parameter sameMachine: the run and every reader of the outputs are on this machine (see
    ///   ``unsyncedBoot`` and ``SpareFiles``).
    public init(cache: CacheStore, registry: StageRegistry, maxThreads: Int = ProcessInfo.processInfo.activeProcessorCount,
                aloneInProcess: Bool = false, sameMachine: Bool = false) {
        self.cache = cache
        self.registry = registry
        self.maxThreads = max(1, maxThreads)
        self.aloneInProcess = aloneInProcess
        self.unsyncedBoot = sameMachine && !CacheStore.bootID.isEmpty ? CacheStore.bootID : nil
        self.spares = sameMachine ? cache.spares : nil
    }

    /// Runs `task` (blocking) and returns its manifest. Reuses an existing intact entry of the
    /// same key.
    ///
    /// Steps: check the kind; check the upstream outputs it will read and the source files (see
    /// ``checkInputs(_:kind:)`` and ``checkSources(_:)``); run the kind in a temporary entry; check
    /// that no source changed while it ran; publish the entry atomically.
    /// - Throws: ``PipeError`` `.taskFailed` with the kind's error, `.cache` for a damaged input,
    ///   `.interrupted` if cancelled.
    public func execute(_ task: TaskDescription, attempt: Int = 1, cancellation: CancellationFlag) throws -> Manifest {
        if let existing = cache.completeEntry(for: task.key) { return existing }
        guard let kind = registry.kind(named: task.kind) else {
            throw PipeError(.cache, "this binary has no stage kind '\(task.kind)'")
        }
        guard kind.version == task.kindVersion else {
            throw PipeError(.cache, "kind '\(task.kind)' is version \(kind.version) here, but the task was planned for version \(task.kindVersion)")
        }
        let inputs = try checkInputs(task, kind: kind)
        let seen = try checkSources(task)
        var sources: [String: URL] = [:]
        for s in task.sources { sources[s.name] = URL(fileURLWithPath: s.path) }
        let temp = try cache.makeTemporaryEntry(for: task.key)
        let logURL = URL(fileURLWithPath: cache.logPath(task.key))
        let startDate = Date()
        let startCPU = FileSystem.processCPUSeconds()
        let started = Timestamp.iso8601(startDate)
        do {
            let context = TaskContext(params: task.params, scope: task.scope, inputs: inputs, sources: sources,
                                      outputDirectory: URL(fileURLWithPath: temp + "/out"), logFile: logURL,
                                      cancellation: cancellation, startsWriteback: unsyncedBoot == nil, spares: spares)
            context.log("== \(started) \(task.stage) \(task.scope.label) key \(task.key) attempt \(attempt) (pid \(getpid()), \(min(task.threads, maxThreads)) threads)")
            // The kernels read the budget on this thread (the Numerics module's `ThreadBudget`).
            let threads = min(task.threads, maxThreads)
            let saved = pipe_thread_budget()
            pipe_set_thread_budget(Int32(threads))
            defer { pipe_set_thread_budget(saved) }
            do {
                try kind.run(context)
            } catch {
                context.log("error: \(error)")
                throw error
            }
            try context.checkCancellation()
            try checkSourcesUnchanged(task, since: seen)
            let seconds = Date().timeIntervalSince(startDate)
            context.log("finished in \(String(format: "%.3f", seconds)) s")
            return try cache.publish(temporary: temp, task: task, started: started, seconds: seconds,
                                     peakRSS: FileSystem.peakRSS(), tool: EngineVersion.string,
                                     cpuSeconds: aloneInProcess ? FileSystem.processCPUSeconds() - startCPU : nil,
                                     knownDigests: context.outputDigests,
                                     unsynced: unsyncedBoot)
        } catch let e as PipeError where e.code == .interrupted {
            FileSystem.remove(temp)
            throw e
        } catch {
            FileSystem.remove(temp)
            if cancellation.isCancelled { throw PipeError(.interrupted, "cancelled") }
            let message = (error as? PipeError)?.message ?? "\(error)"
            throw PipeError(.taskFailed, message)
        }
    }

    /// Upstream outputs at or below this size are rehashed before a task reads them; larger ones
    /// are checked by size, inode and modification time against their entry's record.
    public static let inputRehashLimit: Int64 = 256 << 10

    /// Checks every upstream output the task will read against its entry, and returns them as
    /// the kind's inputs. A damaged upstream entry is removed (so the next run recomputes it) and
    /// the task fails naming it: a task never consumes bytes other than those its key was
    /// computed from. An entry whose data was dropped (`keep: false`) serves when `kind` reads
    /// none of the dropped files; they are left out of its input.
    func checkInputs(_ task: TaskDescription, kind: any StageKind) throws -> [TaskInput] {
        let states = task.inputs.map { cache.entryState(for: $0.key) }
        let digests = rehash(task, states: states)
        var inputs: [TaskInput] = []
        for (n, i) in task.inputs.enumerated() {
            let label = i.scope == .group ? i.stage : "\(i.stage) \(i.scope.label)"
            var problem: String?
            var damaged = false
            var gone: Set<String> = []
            switch states[n] {
            case .missing: problem = "its cache entry \(i.key.prefix(12)) is missing"
            case .damaged(let why): problem = why; damaged = true
            case .intact(let outputs) where outputs != i.outputs, .dropped(let outputs, _) where outputs != i.outputs:
                problem = "its entry records other outputs than the task was planned with"
            case .dropped(_, let missing):
                if let needed = missing.sorted().first(where: kind.readsInput(named:)) {
                    problem = "its entry \(i.key.prefix(12)) was dropped (keep: false) and not recomputed (\(needed) is gone)"
                }
                gone = missing
            case .intact: break
            }
            var files: [String: URL] = [:]
            for o in i.outputs where problem == nil && !gone.contains(o.name) {
                let path = cache.outputPath(i.key, o.name)
                files[o.name] = URL(fileURLWithPath: path)
                if o.size <= Self.inputRehashLimit, digests[n][o.name] != o.sha256 {
                    problem = "output \(o.name) was changed after it was written"
                    damaged = true
                }
            }
            if let problem {
                if damaged { cache.removeEntry(i.key) }
                throw PipeError(.cache, "cannot read upstream \(label): \(problem)"
                                + (damaged ? "; the damaged entry was removed, run again to recompute it" : ""))
            }
            inputs.append(TaskInput(fromIndex: i.fromIndex, scope: i.scope, files: files))
        }
        return inputs
    }

    /// The digests of the upstream outputs `checkInputs` rehashes (at most `inputRehashLimit`
    /// bytes, of entries that are intact with the planned outputs), per input and output name;
    /// a file that cannot be read has none. Hashed in parallel on the task's threads.
    private func rehash(_ task: TaskDescription, states: [CacheStore.EntryState]) -> [[String: String]] {
        var files: [(input: Int, name: String, path: String)] = []
        for (n, i) in task.inputs.enumerated() {
            let outputs: [OutputFile], gone: Set<String>
            switch states[n] {
            case .intact(let o): outputs = o; gone = []
            case .dropped(let o, let missing): outputs = o; gone = missing
            default: continue
            }
            guard outputs == i.outputs else { continue }
            for o in i.outputs where o.size <= Self.inputRehashLimit && !gone.contains(o.name) {
                files.append((n, o.name, cache.outputPath(i.key, o.name)))
            }
        }
        let results = parallelMap(files.count, workers: min(task.threads, maxThreads), block: 1) { try? FileSystem.sha256(ofFile: files[$0].path) }
        var digests = [[String: String]](repeating: [:], count: task.inputs.count)
        for (k, f) in files.enumerated() { digests[f.input][f.name] = results[k] }
        return digests
    }

    /// Checks that each source file is the version whose digest is in the task's key: by its
    /// identity when it is the one recorded at planning, else by rehashing it. Returns the
    /// identities seen, for ``checkSourcesUnchanged(_:since:)``.
    func checkSources(_ task: TaskDescription) throws -> [FileSystem.FileIdentity] {
        try task.sources.map { s in
            guard case .regular(let id) = FileSystem.kind(of: s.path) else {
                throw PipeError(.taskFailed, "\(s.path) changed while the run was in progress: it is no longer a regular file")
            }
            if id.sameVersion(as: s.identity) { return id }
            let digest = try FileSystem.sha256(ofFile: s.path)
            guard digest == s.digest, let after = try FileSystem.identity(of: s.path), after.sameVersion(as: id) else {
                throw PipeError(.taskFailed, "\(s.path) changed while the run was in progress (planned with digest \(s.digest.prefix(12)), now \(digest.prefix(12))); run again to plan with the new file")
            }
            return id
        }
    }

    /// Fails when a source file changed while the task ran: its result would mix versions, and
    /// nothing is published under the key.
    func checkSourcesUnchanged(_ task: TaskDescription, since seen: [FileSystem.FileIdentity]) throws {
        for (s, before) in zip(task.sources, seen) {
            let now = try? FileSystem.identity(of: s.path)
            guard before.sameVersion(as: now ?? nil) else {
                throw PipeError(.taskFailed, "\(s.path) changed while the run was in progress; nothing was stored for this task, run again")
            }
        }
    }
}

