import Foundation

/// Runs a study's task graph: resolves keys in dependency order, serves cached tasks, and executes
/// the rest with bounded structured concurrency.
///
/// Scheduling: a `TaskGroup` holds at most `jobs` running tasks whose memory estimates fit the
/// budget (a task larger than the budget runs alone); each time `group.next()` returns, the result
/// is recorded, newly resolvable dependents are keyed and looked up (early cutoff: a dependent whose
/// key, computed from upstream *output* digests, already has an entry is served from the cache),
/// and more tasks start. Ready tasks start lowest id first. Only this control loop mutates state,
/// so no locks are needed; task bodies run in executors (on their own threads or processes).
///
/// Results are independent of job count and completion order: a task's key and inputs are fixed by
/// its upstream outputs, and outputs are published from the cache.
public final class Runner: @unchecked Sendable {
    public let graph: TaskGraph
    public let cache: CacheStore
    public let executor: any TaskExecutor
    public let options: RunOptions
    public let observers: [any RunObserver]
    public let runID: String

    public init(graph: TaskGraph, cache: CacheStore, executor: any TaskExecutor, options: RunOptions,
                observers: [any RunObserver], runID: String) {
        self.graph = graph
        self.cache = cache
        self.executor = executor
        self.options = options
        self.observers = observers
        self.runID = runID
    }

    private func emit(_ e: RunEvent) { for o in observers { o.handle(e) } }

    private enum State { case waiting, ready, running, done, failed, skipped }

    private struct Completion: Sendable {
        var task: Int
        var attempt: Int
        var result: Result<Manifest, PipeError>
    }

    /// Runs every task. Never throws for task failures: they are in the summary.
    /// - Throws: ``PipeError`` `.interrupted` when the surrounding task was cancelled (after running
    ///   tasks stopped and the index was saved).
    public func run() async throws -> RunSummary {
        let start = Date()
        let tasks = graph.tasks
        let n = tasks.count
        var stageCounts: [(String, Int)] = graph.spec.stages.map { ($0.name, 0) }
        for t in tasks { stageCounts[t.stageIndex].1 += 1 }
        emit(.runStarted(runID: runID, stages: stageCounts))

        var state = [State](repeating: .waiting, count: n)
        var resolved = [(key: String, outputs: [OutputFile])?](repeating: nil, count: n)
        var descriptions = [TaskDescription?](repeating: nil, count: n)
        var remainingDeps = tasks.map(\.dependencies.count)
        var ready = MinHeap()
        var executed = 0, cachedCount = 0, failedCount = 0, skippedCount = 0
        var failures: [RunSummary.Failure] = []
        var inFlightKeys: [String: [Int]] = [:]   // key -> other tasks waiting for the same key

        // Plan explanation for the journal: a full static plan.
        let plans = Planner(graph: graph, cache: cache).plan(explain: true)
        for p in plans {
            let t = tasks[p.task]
            emit(.planned(stage: t.stage, scope: t.scope, status: p.status, key: p.key, reasons: p.reasons))
        }

        let tasksDir = DirectoryHandle(path: cache.tasksPath)
        // Marks a task done with `outputs` and resolves its dependents (worklist, no recursion).
        var worklist: [Int] = []
        func complete(_ id: Int, key: String, outputs: [OutputFile]) {
            state[id] = .done
            resolved[id] = (key, outputs)
            for d in graph.dependents[id] {
                remainingDeps[d] -= 1
                if remainingDeps[d] == 0 && state[d] == .waiting { worklist.append(d) }
            }
        }
        func resolve(_ id: Int) {
            if plans[id].status == .cached, let key = plans[id].key {
                cachedCount += 1
                emit(.cached(stage: tasks[id].stage, scope: tasks[id].scope, key: key))
                complete(id, key: key, outputs: plans[id].outputs)
                return
            }
            let desc = graph.describe(tasks[id]) { resolved[$0]! }
            descriptions[id] = desc
            switch cache.entryState(for: desc.key, tasks: tasksDir) {
            case .intact(let outputs):
                cachedCount += 1
                emit(.cached(stage: tasks[id].stage, scope: tasks[id].scope, key: desc.key))
                complete(id, key: desc.key, outputs: outputs)
                return
            case .damaged(let why):
                // Never served: removed (under the lock) and recomputed.
                emit(.warning("\(tasks[id].label): cache entry \(desc.key.prefix(12)) is damaged (\(why)); recomputing it"))
                cache.removeEntry(desc.key)
            case .missing:
                break
            }
            state[id] = .ready
            ready.push(id)
        }
        func drain() {
            while let id = worklist.popLast() { resolve(id) }
        }
        func skipDependents(of id: Int, because reason: String) {
            var stack = graph.dependents[id]
            while let d = stack.popLast() {
                guard state[d] == .waiting else { continue }
                state[d] = .skipped
                skippedCount += 1
                emit(.skipped(stage: tasks[d].stage, scope: tasks[d].scope, reason: reason))
                stack += graph.dependents[d]
            }
        }

        for t in tasks where t.dependencies.isEmpty { worklist.append(t.id) }
        // Resolve in id order for deterministic event order.
        worklist.reverse()
        drain()

        var stopping = false
        var interrupted = false
        let jobs = max(1, options.jobs)
        let budget = options.memoryBudget
        let executor = self.executor

        var attempts: [Int: Int] = [:]
        await withTaskGroup(of: Completion.self) { group in
            var running = 0
            var memoryInUse: UInt64 = 0
            func launch() {
                while !stopping, running < jobs, let id = ready.peek {
                    let desc = descriptions[id]!
                    if running > 0 && memoryInUse + desc.memory > budget { break }
                    _ = ready.pop()
                    if inFlightKeys[desc.key] != nil {
                        inFlightKeys[desc.key]!.append(id)
                        continue
                    }
                    inFlightKeys[desc.key] = []
                    state[id] = .running
                    running += 1
                    memoryInUse += desc.memory
                    let attempt = attempts[id, default: 1]
                    // Persist the description first, so any executor (or `pipe worker`) can run the task.
                    do {
                        try cache.writeDescription(desc)
                    } catch {
                        let e = error as? PipeError ?? PipeError(.io, "\(error)")
                        group.addTask { Completion(task: id, attempt: attempt, result: .failure(e)) }
                        continue
                    }
                    emit(.started(stage: tasks[id].stage, scope: tasks[id].scope, key: desc.key, attempt: attempt))
                    group.addTask {
                        do {
                            return Completion(task: id, attempt: attempt, result: .success(try await executor.execute(desc, attempt: attempt)))
                        } catch let e as PipeError {
                            return Completion(task: id, attempt: attempt, result: .failure(e))
                        } catch {
                            return Completion(task: id, attempt: attempt, result: .failure(PipeError(.taskFailed, "\(error)")))
                        }
                    }
                }
            }
            launch()
            while running > 0 {
                guard let c = await group.next() else { break }
                running -= 1
                let id = c.task
                let desc = descriptions[id]!
                memoryInUse -= min(memoryInUse, desc.memory)
                let waiters = inFlightKeys.removeValue(forKey: desc.key) ?? []
                switch c.result {
                case .success(let m):
                    executed += 1
                    emit(.finished(stage: tasks[id].stage, scope: tasks[id].scope, key: desc.key, seconds: m.seconds, peakRSS: m.peakRSS))
                    complete(id, key: desc.key, outputs: m.outputs)
                    for w in waiters {
                        cachedCount += 1
                        emit(.cached(stage: tasks[w].stage, scope: tasks[w].scope, key: desc.key))
                        complete(w, key: desc.key, outputs: m.outputs)
                    }
                    drain()
                case .failure(let e):
                    if e.code == .interrupted || Task.isCancelled {
                        interrupted = true
                        state[id] = .ready
                    } else if c.attempt <= options.retries {
                        emit(.failed(stage: tasks[id].stage, scope: tasks[id].scope, key: desc.key, error: e.message,
                                     log: cache.logPath(desc.key), attempt: c.attempt, willRetry: true))
                        attempts[id] = c.attempt + 1
                        state[id] = .ready
                        ready.push(id)
                        for w in waiters { ready.push(w) }
                    } else {
                        failedCount += 1
                        state[id] = .failed
                        let log = cache.logPath(desc.key)
                        failures.append(.init(stage: tasks[id].stage, scope: tasks[id].scope, error: e.message, log: log))
                        emit(.failed(stage: tasks[id].stage, scope: tasks[id].scope, key: desc.key, error: e.message,
                                     log: log, attempt: c.attempt, willRetry: false))
                        for w in [id] + waiters {
                            if w != id {
                                state[w] = .failed
                                failedCount += 1
                                failures.append(.init(stage: tasks[w].stage, scope: tasks[w].scope, error: e.message, log: log))
                            }
                            skipDependents(of: w, because: "upstream failed: \(tasks[id].label)")
                        }
                        if !options.keepGoing { stopping = true }
                    }
                }
                if Task.isCancelled { stopping = true; interrupted = true }
                launch()
            }
        }
        if Task.isCancelled { interrupted = true }

        // Record the latest key of every resolved task for `plan`'s explanations.
        var perStage: [String: [String: String]] = [:]
        for (i, t) in tasks.enumerated() {
            if let r = resolved[i] { perStage[t.stage, default: [:]][t.scope.label] = r.key }
        }
        for (stage, entries) in perStage {
            let study = CacheStore.studyIdentity(graph.spec)
            var index = cache.readIndex(study: study, stage: stage)
            var changed = false
            for (k, v) in entries where index[k] != v { index[k] = v; changed = true }
            if changed { try? cache.writeIndex(study: study, stage: stage, index) }
        }

        var publishError: PipeError?
        if !interrupted && options.publishOutputs {
            let publisher = OutputPublisher(cache: cache, outputDirectory: graph.spec.outputDirectory,
                                            study: CacheStore.studyIdentity(graph.spec))
            for (si, stage) in graph.spec.stages.enumerated() where stage.publish {
                let ids = tasks.indices.filter { tasks[$0].stageIndex == si }
                // An entry removed during the run (found damaged by a consumer) is not published.
                let entries = ids.compactMap { resolved[$0] }.filter { tasksDir?.exists($0.key) ?? true }
                do {
                    try publisher.publish(stage: stage.name, entries: entries, complete: entries.count == ids.count)
                } catch let e as PipeError { publishError = e } catch {}
            }
            do { try publisher.saveRecord() } catch let e as PipeError { publishError = publishError ?? e } catch {}
        }

        let summary = RunSummary(
            runID: runID, total: n, executed: executed, cached: cachedCount, failed: failedCount,
            skipped: skippedCount + (interrupted || stopping ? state.filter { $0 == .waiting || $0 == .ready }.count : 0),
            interrupted: interrupted, seconds: Date().timeIntervalSince(start),
            bytesHashed: IOCounters.bytesHashed, sourceBytesRead: IOCounters.sourceBytesRead,
            peakRSS: FileSystem.peakRSS(), failures: failures)
        emit(.runFinished(summary))
        if interrupted { throw PipeError(.interrupted, "\(executed) tasks finished, \(cachedCount) cached, \(n - executed - cachedCount) not run; run again to resume") }
        if let publishError { throw publishError }
        return summary
    }
}
