import Foundation

/// Starting tasks and recording what their executors report.
extension RunState {
    /// Starts ready tasks in the graph's start order (the most estimated work ahead first), while fewer than `jobs` run and the next one's memory
    /// estimate and threads fit the budgets (a task larger than a budget runs alone). A ready task whose key
    /// is already running waits for that run's result instead of starting.
    mutating func launch(into group: inout TaskGroup<Completion>) {
        var batch: [TaskDescription] = []
        defer { if !batch.isEmpty { executor.prepare(batch) } }
        while let id = nextStartable() {
            let desc = descriptions[id]!
            if inFlightKeys[desc.key] != nil {
                inFlightKeys[desc.key]!.append(id)
                continue
            }
            inFlightKeys[desc.key] = []
            status[id] = .running
            running += 1
            memoryInUse += desc.memory
            coresInUse += min(desc.threads, options.threadsPerTask, options.cores)
            if start(id, desc, attempt: attempts[id, default: 1], in: &group) { batch.append(desc) }
        }
    }

    /// Pops the first ready task if a slot is free and its memory fits; `nil` otherwise.
    private mutating func nextStartable() -> Int? {
        guard !stopping, running < jobs, let id = ready.peek else { return nil }
        if running > 0 && memoryInUse + descriptions[id]!.memory > options.memoryBudget { return nil }
        if running > 0 && coresInUse + min(descriptions[id]!.threads, options.threadsPerTask, options.cores) > options.cores { return nil }
        return ready.pop()
    }

    /// Persists the task's description (so any executor, or `pipe worker`, can run it from the
    /// cache), reports the start, and hands the task to the executor. The only place tasks run.
    /// - Returns: whether the executor got the task (false: its description could not be written,
    ///   and it fails).
    private func start(_ id: Int, _ desc: TaskDescription, attempt: Int, in group: inout TaskGroup<Completion>) -> Bool {
        do {
            try cache.writeDescription(desc)
        } catch {
            let e = error as? PipeError ?? PipeError(.io, "\(error)")
            group.addTask { Completion(task: id, attempt: attempt, result: .failure(e)) }
            return false
        }
        let task = graph.tasks[id]
        emit(.started(stage: task.stage, scope: task.scope, key: desc.key, attempt: attempt))
        let executor = self.executor
        group.addTask {
            do {
                return Completion(task: id, attempt: attempt, result: .success(try await executor.execute(desc, attempt: attempt)))
            } catch let e as PipeError {
                return Completion(task: id, attempt: attempt, result: .failure(e))
            } catch {
                return Completion(task: id, attempt: attempt, result: .failure(PipeError(.taskFailed, "\(error)")))
            }
        }
        return true
    }

    /// Records one attempt's result: frees its slot, then completes the task (and the tasks waiting
    /// for the same key), or marks it interrupted, or queues a retry, or fails it and skips its
    /// dependents.
    mutating func record(_ c: Completion) {
        running -= 1
        let task = graph.tasks[c.task]
        let desc = descriptions[c.task]!
        memoryInUse -= min(memoryInUse, desc.memory)
        coresInUse -= min(coresInUse, min(desc.threads, options.threadsPerTask, options.cores))
        let waiters = inFlightKeys.removeValue(forKey: desc.key) ?? []
        switch c.result {
        case .success(let manifest):
            recordSuccess(c.task, desc, manifest, waiters: waiters)
        case .failure(let e) where e.code == .interrupted || Task.isCancelled:
            interrupted = true
            status[c.task] = .ready
        case .failure(let e) where c.attempt <= options.retries:
            emit(.failed(stage: task.stage, scope: task.scope, key: desc.key, error: e.message,
                         log: cache.logPath(desc.key), attempt: c.attempt, willRetry: true))
            attempts[c.task] = c.attempt + 1
            status[c.task] = .ready
            ready.push(c.task)
            for w in waiters { ready.push(w) }
        case .failure(let e):
            recordFailure(c.task, desc, e, attempt: c.attempt, waiters: waiters)
        }
    }

    /// Completes an executed task and the tasks that waited for its key (those count as cached),
    /// then resolves the dependents that became ready.
    private mutating func recordSuccess(_ id: Int, _ desc: TaskDescription, _ m: Manifest, waiters: [Int]) {
        let task = graph.tasks[id]
        executed += 1
        sourceBytesRead += desc.sources.reduce(0) { $0 + Self.size(of: $1) }
        emit(.finished(stage: task.stage, scope: task.scope, key: desc.key, seconds: m.seconds, peakRSS: m.peakRSS, cpuSeconds: m.cpuSeconds))
        if executor.runsOnThisMachine { syncInBackground(id, key: desc.key) }
        complete(id, key: desc.key, outputs: m.outputs)
        for w in waiters { serveFromCache(w, key: desc.key, outputs: m.outputs) }
        drain()
    }

    /// Fails a task out of retries and the tasks that waited for its key, skips everything
    /// downstream of them, and stops starting tasks unless `--keep-going`.
    private mutating func recordFailure(_ id: Int, _ desc: TaskDescription, _ e: PipeError, attempt: Int, waiters: [Int]) {
        let task = graph.tasks[id]
        let log = cache.logPath(desc.key)
        failed += 1
        status[id] = .failed
        failures.append(.init(stage: task.stage, scope: task.scope, error: e.message, log: log))
        emit(.failed(stage: task.stage, scope: task.scope, key: desc.key, error: e.message,
                     log: log, attempt: attempt, willRetry: false))
        let reason = "upstream failed: \(task.label)"
        if let recompute = materializing.removeValue(forKey: id) {
            // Recomputed for these readers of its dropped files: the other dependents read what it
            // kept, which is still in place, and go on.
            for w in recompute.waiters where status[w] == .waiting {
                status[w] = .skipped
                skipped += 1
                emit(.skipped(stage: graph.tasks[w].stage, scope: graph.tasks[w].scope, reason: reason))
                skipDependents(of: w, because: reason)
            }
        } else {
            skipDependents(of: id, because: reason)
        }
        for w in waiters {
            status[w] = .failed
            failed += 1
            failures.append(.init(stage: graph.tasks[w].stage, scope: graph.tasks[w].scope, error: e.message, log: log))
            skipDependents(of: w, because: reason)
        }
        if !options.keepGoing { stopping = true }
    }

    /// A source file's size: as recorded when it was hashed, else as it is now (0 if unreadable).
    private static func size(of source: TaskDescription.Source) -> UInt64 {
        let identity = source.identity ?? (try? FileSystem.identity(of: source.path)) ?? nil
        return UInt64(max(0, identity?.size ?? 0))
    }
}
