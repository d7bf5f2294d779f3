import Foundation

/// Runs a study's task graph: resolves keys in dependency order, serves cached tasks, and executes
/// the rest with bounded structured concurrency.
///
/// Scheduling: a `TaskGroup` holds at most `jobs` running tasks whose memory estimates fit the
/// budget (a task larger than the budget runs alone); each time `group.next()` returns, the result
/// is recorded, newly resolvable dependents are keyed and looked up (early cutoff: a dependent whose
/// key, computed from upstream *output* digests, already has an entry is served from the cache),
/// and more tasks start. Ready tasks start in ``TaskGraph/startOrder``: the most estimated work
/// ahead of them first. Only this control loop mutates the run's state (a ``RunState``), so no
/// locks are needed; task bodies run in executors (on their own threads or processes), called from
/// one place, ``RunState/start(_:_:attempt:in:)``.
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

    func emit(_ e: RunEvent) { for o in observers { o.handle(e) } }

    /// Runs every task. Never throws for task failures: they are in the summary.
    ///
    /// Steps: announce the run; plan it and explain the plan; resolve the tasks without
    /// dependencies; then, until nothing runs, launch what fits and record each completion (which
    /// resolves dependents, retries, or skips them); wait for the entries to be on disk
    /// (``DeferredSync``); save the index; publish; summarise.
    /// - Throws: ``PipeError`` `.interrupted` when the surrounding task was cancelled (after running
    ///   tasks stopped and the index was saved); else an entry that could not be fsynced, or the
    ///   first publishing error.
    public func run() async throws -> RunSummary {
        let start = Date()
        emit(.runStarted(runID: runID, stages: stageCounts()))
        var run = RunState(runner: self)
        run.explainPlan()
        run.resolveRoots()
        await withTaskGroup(of: RunState.Completion.self) { group in
            run.launch(into: &group)
            while run.running > 0, let completion = await group.next() {
                run.record(completion)
                if Task.isCancelled { run.stopping = true; run.interrupted = true }
                run.launch(into: &group)
            }
        }
        if Task.isCancelled { run.interrupted = true }
        // Before the drops at the end: an entry is never synced and dropped at once.
        let syncError = run.syncer.wait()
        run.saveIndex()
        run.dropIntermediates()
        let publishError = run.publish()
        let summary = run.summary(runID: runID, seconds: Date().timeIntervalSince(start))
        emit(.runFinished(summary))
        if run.interrupted { throw run.interruptedError }
        if let error = syncError ?? publishError { throw error }
        return summary
    }

    /// The number of tasks of each stage, in spec order.
    private func stageCounts() -> [(String, Int)] {
        var counts: [(String, Int)] = graph.spec.stages.map { ($0.name, 0) }
        for t in graph.tasks { counts[t.stageIndex].1 += 1 }
        return counts
    }
}
