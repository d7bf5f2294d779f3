import Foundation

/// The mutable state of one ``Runner/run()``: each task's status, key and outputs, the ready queue,
/// the running set, and the counts for the summary. Only the runner's control loop holds it.
///
/// A task moves `waiting` (upstream not done) → `ready` (key known, no cache entry) → `running` →
/// `done` or `failed`; or `waiting` → `done` when its key has an entry (a cache hit), or `waiting`
/// → `skipped` when an upstream task failed.
struct RunState {
    enum Status { case waiting, ready, running, done, failed, skipped }

    /// What an executor reports for one attempt of one task.
    struct Completion: Sendable {
        var task: Int
        var attempt: Int
        var result: Result<Manifest, PipeError>
    }

    let graph: TaskGraph
    let cache: CacheStore
    let executor: any TaskExecutor
    let options: RunOptions
    let observers: [any RunObserver]
    /// The static plan made at the start (it serves the tasks cached from the outset).
    let plans: [TaskPlan]
    let tasksDir: DirectoryHandle?
    /// At most this many tasks run at once.
    let jobs: Int

    var status: [Status]
    /// Each done task's key and outputs.
    var resolved: [(key: String, outputs: [OutputFile])?]
    /// Each keyed task's description (set when it is resolved and not cached).
    var descriptions: [TaskDescription?]
    /// Upstream tasks not done yet, per task.
    var remainingDeps: [Int]
    var ready: ReadyQueue
    /// Tasks whose upstream tasks are all done, to be resolved.
    var worklist: [Int] = []
    /// Key of each running task → other ready tasks with the same key, waiting for its result.
    var inFlightKeys: [String: [Int]] = [:]
    /// Attempt number of the next start, for tasks being retried.
    var attempts: [Int: Int] = [:]
    var running = 0
    var memoryInUse: UInt64 = 0
    var coresInUse = 0
    /// Tasks served from an entry whose data was dropped (`keep: false`), with the names of the
    /// outputs dropped.
    var dropped: [Int: Set<String>] = [:]
    /// Tasks being recomputed because a task that must run reads their dropped files: the files
    /// dropped, and the tasks waiting for them. Such a task was complete once already, so its
    /// second completion (or its failure) concerns only these waiters, not every dependent again.
    var materializing: [Int: (dropped: Set<String>, waiters: [Int])] = [:]
    /// Per done task of a stage that drops promptly (``TaskGraph/dropsPromptly``): the outputs a
    /// drop takes, and the tasks that read them and are not done yet (a set, so that a task
    /// completed twice, a recomputation, is taken out once).
    var pendingDrops: [Int: (names: Set<String>, readers: Set<Int>)] = [:]
    /// Deletes the files of dropped entries off the control loop (``dropIfRead(_:)``).
    let remover = DeferredRemoval()
    /// Fsyncs the entries executed on this machine off the control loop (``DeferredSync``).
    let syncer = DeferredSync()
    /// The stages whose dropped entries this run recomputes, warned about once each.
    var warnedRecomputing: Set<String> = []
    /// No more tasks start (a failure without `--keep-going`, or cancellation).
    var stopping = false
    var interrupted = false

    var executed = 0, cached = 0, failed = 0, skipped = 0
    var failures: [RunSummary.Failure] = []
    /// Bytes of the source files of the tasks executed (see ``RunSummary/sourceBytesRead``).
    var sourceBytesRead: UInt64 = 0

    /// Plans the run (reading the cache, not changing it); emits nothing.
    init(runner: Runner) {
        graph = runner.graph
        cache = runner.cache
        executor = runner.executor
        options = runner.options
        observers = runner.observers
        plans = Planner(graph: graph, cache: cache).plan(explain: true)
        tasksDir = DirectoryHandle(path: cache.tasksPath)
        jobs = max(1, options.jobs)
        let n = graph.tasks.count
        status = Array(repeating: .waiting, count: n)
        resolved = Array(repeating: nil, count: n)
        descriptions = Array(repeating: nil, count: n)
        remainingDeps = graph.tasks.map(\.dependencies.count)
        ready = ReadyQueue(graph)
    }

    func emit(_ e: RunEvent) { for o in observers { o.handle(e) } }

    /// Emits the static plan for the journal: one `planned` event per task, in id order.
    func explainPlan() {
        for p in plans {
            let t = graph.tasks[p.task]
            emit(.planned(stage: t.stage, scope: t.scope, status: p.status, key: p.key, reasons: p.reasons))
        }
    }

    /// Resolves the tasks without dependencies, in id order (for a deterministic event order).
    mutating func resolveRoots() {
        for t in graph.tasks where t.dependencies.isEmpty { worklist.append(t.id) }
        worklist.reverse()
        drain()
    }

    /// Resolves every task in the worklist (those whose upstream tasks just became done).
    mutating func drain() {
        while let id = worklist.popLast() { resolve(id) }
    }

    /// Keys a task whose upstream tasks are done and looks it up: a cache hit completes it; a
    /// damaged entry is reported, removed (under the lock) and recomputed; otherwise it is ready.
    mutating func resolve(_ id: Int) {
        let task = graph.tasks[id]
        if plans[id].status == .cached, materializing[id] == nil, let key = plans[id].key {
            serveFromCache(id, key: key, outputs: plans[id].outputs, dropped: plans[id].droppedOutputs)
            return
        }
        let desc = graph.describe(task) { resolved[$0]! }
        descriptions[id] = desc
        switch cache.entryState(for: desc.key, tasks: tasksDir) {
        case .intact(let outputs):
            serveFromCache(id, key: desc.key, outputs: outputs)
            return
        case .dropped(let outputs, let missing):
            // Recomputed for a reader of its dropped files, it runs; its entry stays in place
            // meanwhile (the files it kept may be being read) and gets them back when it publishes.
            if materializing[id] == nil {
                serveFromCache(id, key: desc.key, outputs: outputs, dropped: missing)
                return
            }
        case .damaged(let why):
            emit(.warning("\(task.label): cache entry \(desc.key.prefix(12)) is damaged (\(why)); recomputing it"))
            cache.removeEntry(desc.key)
        case .missing:
            break
        }
        if recomputeDroppedInputs(of: id) { return }
        status[id] = .ready
        ready.push(id)
    }

    /// A task that must run and reads dropped files of upstream entries (`keep: false`; its kind's
    /// ``StageKind/readsInput(named:)``) waits while they are recomputed (their outputs are the
    /// same bytes, so its key stands). Warns once per upstream stage, not per entry. Returns
    /// whether it waits.
    mutating func recomputeDroppedInputs(of id: Int) -> Bool {
        let kind = graph.stage(of: graph.tasks[id]).kind
        let upstream = Set(graph.tasks[id].dependencies.map(\.task))
        // Already being recomputed for another reader, and this one reads its dropped files too:
        // wait for it as well.
        let pending = upstream.filter { u in materializing[u].map { kind.readsAny(of: $0.dropped) } ?? false }.sorted()
        for u in pending {
            materializing[u]!.waiters.append(id)
            remainingDeps[id] += 1
        }
        let inputs = upstream.filter { u in dropped[u].map(kind.readsAny(of:)) ?? false }.sorted()
        guard !inputs.isEmpty else {
            if pending.isEmpty { return false }
            status[id] = .waiting
            return true
        }
        for u in inputs {
            materializing[u] = (dropped[u]!, [id])
            dropped[u] = nil
            cached -= 1  // counted again when it runs
            status[u] = .waiting
            remainingDeps[id] += 1
            let stage = graph.tasks[u].stage
            if !warnedRecomputing.contains(stage) {
                warnedRecomputing.insert(stage)
                emit(.warning("\(graph.tasks[u].label): its data was dropped (keep: false) and \(graph.tasks[id].label) needs it; recomputing it, and every other \(stage) entry a task that must run needs"))
            }
            worklist.append(u)
        }
        status[id] = .waiting
        return true
    }

    /// Counts and reports a cache hit, and completes the task with the entry's outputs; `dropped`
    /// names the outputs the entry's state said were dropped when it was looked up (no second
    /// stat per task).
    mutating func serveFromCache(_ id: Int, key: String, outputs: [OutputFile], dropped missing: Set<String> = []) {
        cached += 1
        if !missing.isEmpty { dropped[id] = missing }
        // A killed run's entry, not yet fsynced: synced now, as that run would have.
        if cache.takeLeftUnsynced(key) { syncInBackground(id, key: key) }
        emit(.cached(stage: graph.tasks[id].stage, scope: graph.tasks[id].scope, key: key))
        complete(id, key: key, outputs: outputs)
    }

    /// Hands task `id`'s entry `key` to the background sync (``DeferredSync``), except the
    /// outputs its stage drops soon (``TaskGraph/dropsPromptly``), which stay unsynced.
    func syncInBackground(_ id: Int, key: String) {
        let task = graph.tasks[id], kind = graph.stage(of: task).kind, transient = graph.dropsPromptly[task.stageIndex]
        syncer.makeDurable(key, in: cache, dropsSoon: { name in transient && kind.dropsOutput(named: name) })
    }

    /// Marks a task done with `outputs` and queues the dependents that have no other upstream task
    /// left in the worklist (no recursion: ``drain()`` resolves them).
    mutating func complete(_ id: Int, key: String, outputs: [OutputFile]) {
        status[id] = .done
        resolved[id] = (key, outputs)
        let task = graph.tasks[id], kind = graph.stage(of: task).kind
        if graph.dropsPromptly[task.stageIndex] {
            let names = kind.droppedOutputs(outputs)
            pendingDrops[id] = (names, Set(graph.dependents[id].filter { status[$0] != .done && graph.stage(of: graph.tasks[$0]).kind.readsAny(of: names) }))
        }
        for dep in task.dependencies {
            pendingDrops[dep.task]?.readers.remove(id)
            dropIfRead(dep.task)
        }
        dropIfRead(id)
        if let waiters = materializing.removeValue(forKey: id)?.waiters {
            for w in waiters {
                remainingDeps[w] -= 1
                if remainingDeps[w] == 0 && status[w] == .waiting { worklist.append(w) }
            }
            return
        }
        for d in graph.dependents[id] {
            remainingDeps[d] -= 1
            if remainingDeps[d] == 0 && status[d] == .waiting { worklist.append(d) }
        }
    }

    /// Marks every waiting task downstream of `id` skipped, reporting each with `reason`.
    mutating func skipDependents(of id: Int, because reason: String) {
        var stack = graph.dependents[id]
        while let d = stack.popLast() {
            guard status[d] == .waiting else { continue }
            status[d] = .skipped
            skipped += 1
            emit(.skipped(stage: graph.tasks[d].stage, scope: graph.tasks[d].scope, reason: reason))
            stack += graph.dependents[d]
        }
    }
}
