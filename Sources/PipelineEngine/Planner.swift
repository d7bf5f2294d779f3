import Foundation

/// Decides, for every task, whether it is cached, will run, or waits on upstream work, and explains
/// why a task will run by comparing it with the previous task of the same stage and scope recorded
/// in the cache index.
public struct Planner: Sendable {
    /// The graph.
    public let graph: TaskGraph
    /// The cache.
    public let cache: CacheStore

    public init(graph: TaskGraph, cache: CacheStore) {
        self.graph = graph
        self.cache = cache
    }

    /// Plans every task, in graph order. The tasks are taken in waves (runs of consecutive tasks
    /// none of which reads another of the same run, in practice a stage), and the tasks of a wave
    /// are keyed and looked up in the cache in parallel; the plans do not depend on the thread
    /// count.
    public func plan(explain: Bool = true, threads: Int = ProcessInfo.processInfo.activeProcessorCount) -> [TaskPlan] {
        let tasks = graph.tasks
        var resolved = [(key: String, outputs: [OutputFile])?](repeating: nil, count: tasks.count)
        var indexes: [String: [String: String]] = [:]
        let tasksDir = DirectoryHandle(path: cache.tasksPath)
        var plans: [TaskPlan] = []
        plans.reserveCapacity(tasks.count)
        var start = 0
        while start < tasks.count {
            var end = start + 1
            while end < tasks.count, tasks[end].stage == tasks[start].stage,
                  tasks[end].dependencies.allSatisfy({ $0.task < start }) { end += 1 }
            let wave = waveResults(start..<end, resolved: resolved, tasksDir: tasksDir, threads: threads)
            for (offset, (plan, description)) in wave.enumerated() {
                let task = tasks[start + offset]
                var plan = plan
                if plan.status == .cached, let key = plan.key { resolved[task.id] = (key, plan.outputs) }
                if plan.status == .run, explain, let d = description {
                    if indexes[task.stage] == nil { indexes[task.stage] = cache.readIndex(study: CacheStore.studyIdentity(graph.spec), stage: task.stage) }
                    let previous = indexes[task.stage]![task.scope.label].flatMap { cache.manifest(for: $0) }
                    plan.reasons = Self.reasons(d, previous: previous)
                }
                plans.append(plan)
            }
            start = end
        }
        return plans
    }

    /// `plans` with every cached task whose data was dropped (`keep: false`) and that a task which
    /// will run reads (a dropped file its kind's ``StageKind/readsInput(named:)`` names) shown as
    /// to run, with why: the run recomputes it first; read only by tasks that are pending (they run
    /// if their upstream's new outputs differ), shown as pending. Chains of such stages are
    /// followed. For `pipe plan`; a run finds these itself as it goes (``RunState``), and
    /// `cache gc` keeps them.
    public func showingRecomputedDropped(_ plans: [TaskPlan]) -> [TaskPlan] {
        var plans = plans
        var maybe: Set<Int> = []  // cached entries shown as pending here
        for id in plans.indices.reversed() where plans[id].status != .cached {
            let task = graph.tasks[plans[id].task]
            let kind = graph.stage(of: task).kind
            let runs = plans[id].status == .run
            for u in Set(task.dependencies.map(\.task)).sorted()
            where (plans[u].status == .cached || (runs && maybe.contains(u))) && kind.readsAny(of: plans[u].droppedOutputs) {
                if runs {
                    plans[u].status = .run
                    plans[u].reasons = ["its data was dropped (keep: false) and \(task.label) needs it: recomputed first, with the same key"]
                    maybe.remove(u)
                } else {
                    plans[u].status = .pending
                    plans[u].reasons = ["its data was dropped (keep: false) and \(task.label) needs it if it runs: then recomputed first, with the same key"]
                    maybe.insert(u)
                }
            }
        }
        return plans
    }

    /// The plans of tasks `range` (whose upstream tasks, all before the range, are settled in
    /// `resolved`), with the description of each task that will run (for `reasons`). In parallel
    /// over blocks of 512 tasks.
    private func waveResults(_ range: Range<Int>, resolved: [(key: String, outputs: [OutputFile])?], tasksDir: DirectoryHandle?,
                             threads: Int) -> [(TaskPlan, TaskDescription?)] {
        parallelMap(range.count, workers: threads, block: 512) { planTask(range.lowerBound + $0, resolved: resolved, tasksDir: tasksDir) }
    }

    /// One task's plan, its upstream settled in `resolved` (reasons for a task that will run are
    /// added by the caller).
    private func planTask(_ id: Int, resolved: [(key: String, outputs: [OutputFile])?], tasksDir: DirectoryHandle?) -> (TaskPlan, TaskDescription?) {
        let task = graph.tasks[id]
        let waiting = task.dependencies.filter { resolved[$0.task] == nil }
        if !waiting.isEmpty {
            var names: [String] = []
            for w in waiting {
                let t = graph.tasks[w.task]
                let n = t.scope == .group ? t.stage : "\(t.stage) \(t.scope.label)"
                if !names.contains(n) { names.append(n) }
            }
            return (TaskPlan(task: id, status: .pending, key: nil, reasons: ["upstream will run: \(names.listed(shown: 3))"]), nil)
        }
        let d = graph.describe(task) { resolved[$0]! }
        switch cache.entryState(for: d.key, tasks: tasksDir) {
        case .intact(let outputs):
            return (TaskPlan(task: id, status: .cached, key: d.key, reasons: [], outputs: outputs), nil)
        case .dropped(let outputs, let missing):
            return (TaskPlan(task: id, status: .cached, key: d.key, reasons: [], outputs: outputs, droppedOutputs: missing), nil)
        case .damaged(let why):
            return (TaskPlan(task: id, status: .run, key: d.key, reasons: ["cache entry damaged (\(why)); it will be recomputed"]), nil)
        case .missing:
            return (TaskPlan(task: id, status: .run, key: d.key, reasons: []), d)
        }
    }

    /// What changed between two parameter values, as short leaf-level lines: `factor (2 -> 3)`,
    /// `seeds[1].label ("LBA_left" -> "CMA_left")`, `seeds[2] added`; at most five, then a count.
    static func changes(_ path: String, _ a: JSONValue?, _ b: JSONValue?) -> [String] {
        var out: [String] = []
        func short(_ v: JSONValue?) -> String {
            guard let v else { return "unset" }
            let s = v.serialized()
            return s.count > 40 ? String(s.prefix(37)) + "..." : s
        }
        func walk(_ path: String, _ a: JSONValue?, _ b: JSONValue?) {
            guard a != b else { return }
            switch (a, b) {
            case (.array(let x)?, .array(let y)?):
                for i in 0..<max(x.count, y.count) {
                    let p = "\(path)[\(i)]"
                    if i >= x.count { out.append("\(p) added \(short(y[i]))") }
                    else if i >= y.count { out.append("\(p) removed \(short(x[i]))") }
                    else { walk(p, x[i], y[i]) }
                }
            case (.object(let x)?, .object(let y)?):
                for k in Set(x.keys).union(y.keys).sorted() { walk("\(path).\(k)", x[k], y[k]) }
            default:
                out.append("\(path) (\(short(a)) -> \(short(b)))")
            }
        }
        walk(path, a, b)
        return out.count > 5 ? Array(out.prefix(5)) + ["and \(out.count - 5) more"] : out
    }

    /// Why task `d` differs from the previous task of its stage and scope.
    public static func reasons(_ d: TaskDescription, previous: Manifest?) -> [String] {
        guard let p = previous?.task else { return ["new"] }
        var out: [String] = []
        if p.kind != d.kind { out.append("kind changed (\(p.kind) -> \(d.kind))") }
        else if p.kindVersion != d.kindVersion { out.append("stage version changed (\(p.kindVersion) -> \(d.kindVersion))") }
        let old = p.params.objectValue ?? [:], new = d.params.objectValue ?? [:]
        for k in Set(old.keys).union(new.keys).sorted() where old[k] != new[k] {
            out.append("parameter changed: " + Self.changes(k, old[k], new[k]).joined(separator: ", "))
        }
        let oldSources = Dictionary(p.sources.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for s in d.sources {
            if let o = oldSources[s.name] {
                if o.digest != s.digest { out.append("input changed: \(s.name) (\(s.path))") }
            } else {
                out.append("input added: \(s.name) (\(s.path))")
            }
        }
        for s in p.sources where !d.sources.contains(where: { $0.name == s.name }) { out.append("input removed: \(s.name)") }
        func id(_ i: TaskDescription.Input) -> String { i.scope == .group ? i.stage : "\(i.stage) \(i.scope.label)" }
        let oldInputs = Dictionary(p.inputs.map { ("\($0.fromIndex)/\($0.scope.label)", $0) }, uniquingKeysWith: { a, _ in a })
        let newKeys = Set(d.inputs.map { "\($0.fromIndex)/\($0.scope.label)" })
        var changed: [String] = [], added: [String] = [], removed: [String] = []
        for i in d.inputs {
            if let o = oldInputs["\(i.fromIndex)/\(i.scope.label)"] {
                if o.outputs != i.outputs { changed.append(id(i)) }
            } else { added.append(id(i)) }
        }
        for i in p.inputs where !newKeys.contains("\(i.fromIndex)/\(i.scope.label)") { removed.append(id(i)) }
        func list(_ xs: [String]) -> String { xs.listed(shown: 5) }
        if !changed.isEmpty { out.append("upstream changed: \(list(changed))") }
        if !added.isEmpty { out.append("upstream added: \(list(added))") }
        if !removed.isEmpty { out.append("upstream removed: \(list(removed))") }
        if out.isEmpty { out.append("cache entry missing (previous key \(p.key.prefix(12)))") }
        return out
    }
}

