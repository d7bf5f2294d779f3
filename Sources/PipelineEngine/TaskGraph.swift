import Foundation

/// The whole task graph of a study, computed before anything runs.
///
/// Expansion per stage kind's ``FanOut``: per-scan stages get one task per cohort scan, per-subject
/// stages one per subject, group stages one. Dependencies, for each upstream stage U of stage S:
/// - S per-scan: U's task of the same scan, of the same subject, or U's group task;
/// - S per-subject: U's tasks of that subject (all its scans, or its subject task), or U's group task;
/// - S group: every task of U.
/// Tasks are ordered by stage (topological) then cohort order; dependencies by (from, scope label).
public struct TaskGraph: Sendable {
    /// The study.
    public let spec: StudySpec
    /// All tasks, topologically ordered.
    public let tasks: [PlannedTask]
    /// For each task, the tasks that depend on it.
    public let dependents: [[Int]]
    /// Per stage: whether its entries are dropped as soon as the tasks that read their dropped
    /// files are done (``RunState/dropIfRead(_:)``): a `keep: false` stage that no other stage
    /// could share keys with. Keys leave out the stage name, so a stage of the same kind, version
    /// and parameters may be served by the same entries (whatever its `keep`); such stages drop
    /// at the end of the run, once every task is done.
    public let dropsPromptly: [Bool]
    /// The order in which ready tasks start: task ids, first to start first. Tasks that depend on
    /// a stage that ``dropsPromptly`` come first: once they are done, its entry is dropped, so
    /// reading an intermediate before making the next one keeps the data in flight (on disk and in
    /// the page cache) to about one entry per running task, where a stage made in full first
    /// would hold all of it at once. Then tasks are sorted by
    /// the most estimated work on a path from the task to the end of the run (its own
    /// ``PlannedTask/work`` plus that of its heaviest dependent's path), most first, then by id.
    /// So of the tasks ready at one time, the one that would otherwise finish the run alone starts
    /// first (critical-path list scheduling); tasks of equal estimates keep stage and cohort order.
    public let startOrder: [Int]
    /// Each task's position in ``startOrder``.
    public let startPosition: [Int]

    /// Expands `spec` into tasks, computing source digests through `memo` (or, with `memo` nil,
    /// only checking that every source is a regular file: `pipe validate` reads no data).
    /// - Throws: ``PipeError`` `.invalidSpec` when a kind rejects a scope or a source file is missing.
    public init(spec: StudySpec, memo: DigestMemo?) throws {
        self.spec = spec
        var tasks: [PlannedTask] = []
        var byStage: [[Scope: Int]] = []
        let d = SpecDiagnostics()
        let directory = spec.directory.path.hasSuffix("/") ? spec.directory.path : spec.directory.path + "/"
        // Folders pipe writes into, which must hold no input of the study.
        let written: [(String, String)] = [
            ("the output folder", spec.outputDirectory.standardizedFileURL.path),
            ("the output folder", FileSystem.resolvedPath(spec.outputDirectory.path)),
            ("the cache folder", spec.cacheDirectory.standardizedFileURL.path),
            ("the cache folder", FileSystem.resolvedPath(spec.cacheDirectory.path)),
        ]
        var overlapReported = Set<String>()
        for (si, stage) in spec.stages.enumerated() {
            var problems = SourceProblems(stage: stage)
            let scopes: [Scope]
            switch stage.kind.fanOut {
            case .perScan: scopes = spec.cohort.scans
            case .perSubject: scopes = spec.cohort.subjects.map { .subject($0) }
            case .group: scopes = [.group]
            }
            var index: [Scope: Int] = [:]
            // Each scope's source files and what they are (the kind's `sources` and a stat per
            // file), found in parallel; their digests are then looked up in order.
            let found = Self.findSources(stage, scopes: scopes, directory: spec.directory, prefix: directory)
            // New sources, hashed ahead on every core; those inside a folder pipe writes to are
            // reported below, not hashed.
            func writtenFolder(holding path: String) -> (String, String)? {
                let standardized = FileSystem.standardized(path)
                return written.first { FileSystem.isSameOrInside(standardized, $0.1) }
            }
            if let memo {
                memo.hashAhead(found.flatMap { result -> [(path: String, identity: FileSystem.FileIdentity)] in
                    guard case .success(let files) = result else { return [] }
                    return files.compactMap { _, _, path, kind in
                        guard case .regular(let identity) = kind, !memo.contains(identity), writtenFolder(holding: path) == nil else { return nil }
                        return (path, identity)
                    }
                })
            }
            for (n, scope) in scopes.enumerated() {
                var deps: [(Int, Int)] = []
                for (fi, upName) in stage.from.enumerated() {
                    let ui = spec.stages.firstIndex { $0.name == upName }!
                    let up = byStage[ui]
                    var ids: [Int]
                    switch (stage.kind.fanOut, spec.stages[ui].kind.fanOut) {
                    case (_, .group): ids = [up[.group]!]
                    case (.perScan, .perScan): ids = [up[scope]!]
                    case (.perScan, .perSubject), (.perSubject, .perSubject): ids = [up[.subject(scope.subject!)]!]
                    case (.perSubject, .perScan): ids = spec.cohort.scans(of: scope.subject!).map { up[$0]! }
                    case (.group, _): ids = Array(up.values)
                    }
                    ids.sort { tasks[$0].scope.label < tasks[$1].scope.label }
                    deps += ids.map { (fi, $0) }
                }
                var sources: [TaskDescription.Source] = []
                do {
                    for (name, rel, path, kind) in try found[n].get() {
                        switch kind {
                        case .regular(let identity):
                            if let (what, folder) = writtenFolder(holding: path) {
                                if overlapReported.insert(stage.name + what).inserted {
                                    d.report(stage.location, "stages.\(stage.name)",
                                             "source \(rel) is inside \(what) \(folder); pipe writes there, so inputs must live elsewhere")
                                }
                                continue
                            }
                            if let memo {
                                let (digest, identity) = try memo.lookup(ofFile: path, identity: identity)
                                sources.append(.init(name: name, path: path, digest: digest, identity: identity))
                            } else {
                                sources.append(.init(name: name, path: path, digest: ""))
                            }
                        case .missing:
                            if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: path) {
                                // A git-annex or DataLad file whose content was never fetched.
                                problems.add(source: name, "source \(rel) is a symlink to \(target), which does not exist "
                                             + "(a DataLad or git-annex file not fetched? datalad get it)", scope: scope)
                            } else {
                                problems.add(source: name, "source file not found: \(rel)", scope: scope)
                            }
                        case .symlinkLoop:
                            problems.add(source: name, "source \(rel) is a symlink loop", scope: scope)
                        case .notRegular(let what):
                            problems.add(source: name, "source \(rel) is \(what), not a regular file", scope: scope)
                        case .unreadable(let why):
                            problems.add(source: name, "cannot read source \(rel): \(why)", scope: scope)
                        }
                    }
                } catch let e as PipeError {
                    problems.add(source: nil, e.message, scope: scope)
                }
                let id = tasks.count
                index[scope] = id
                tasks.append(PlannedTask(id: id, stageIndex: si, stage: stage.name, scope: scope,
                                         dependencies: deps, sources: sources,
                                         memory: stage.memory ?? stage.kind.memoryEstimate(stage: stage, scope: scope),
                                         threads: stage.threads ?? stage.kind.defaultThreads,
                                         work: max(0, stage.kind.workEstimate(stage: stage, scope: scope))))
            }
            byStage.append(index)
            problems.report(to: d, of: scopes.count)
        }
        try d.throwIfAny()
        var dependents = [[Int]](repeating: [], count: tasks.count)
        for t in tasks { for dep in t.dependencies { dependents[dep.task].append(t.id) } }
        self.tasks = tasks
        self.dependents = dependents
        // Dependents have higher ids than their upstream tasks, so one pass from the last id down
        // sees every dependent's path before the task's own.
        var path = [Double](repeating: 0, count: tasks.count)
        for id in tasks.indices.reversed() {
            path[id] = tasks[id].work + (dependents[id].lazy.map { path[$0] }.max() ?? 0)
        }
        let stages = spec.stages
        let prompt = stages.indices.map { i in
            stages[i].keep == false && !stages.indices.contains { j in
                j != i && stages[j].kind.name == stages[i].kind.name && stages[j].kind.version == stages[i].kind.version
                    && stages[j].params == stages[i].params
            }
        }
        dropsPromptly = prompt
        let releases = tasks.map { t in t.dependencies.contains { prompt[tasks[$0.task].stageIndex] } }
        startOrder = tasks.indices.sorted {
            releases[$0] != releases[$1] ? releases[$0] : path[$0] != path[$1] ? path[$0] > path[$1] : $0 < $1
        }
        var position = [Int](repeating: 0, count: tasks.count)
        for (p, id) in startOrder.enumerated() { position[id] = p }
        startPosition = position
    }

    /// Per scope of `stage`: its source files (name, path as given, path, what is there), sorted
    /// by name, or the kind's error. In parallel over blocks of 256 scopes.
    private static func findSources(_ stage: StageSpec, scopes: [Scope], directory: URL, prefix: String)
        -> [Result<[(String, String, String, FileSystem.PathKind)], Error>] {
        parallelMap(scopes.count, block: 256) { i in
            Result {
                try stage.kind.sources(stage: stage, scope: scopes[i], directory: directory).sorted(by: { $0.key < $1.key }).map { name, rel in
                    let path = rel.hasPrefix("/") ? rel : prefix + rel
                    return (name, rel, path, FileSystem.kind(of: path))
                }
            }
        }
    }

    /// The stage spec of `task`.
    public func stage(of task: PlannedTask) -> StageSpec { spec.stages[task.stageIndex] }

    /// The description of `task` given its upstream tasks' keys and outputs (`upstream[id]`).
    public func describe(_ task: PlannedTask, upstream: (Int) -> (key: String, outputs: [OutputFile])) -> TaskDescription {
        let stage = stage(of: task)
        let inputs = task.dependencies.map { dep -> TaskDescription.Input in
            let u = upstream(dep.task)
            return .init(fromIndex: dep.fromIndex, stage: tasks[dep.task].stage, scope: tasks[dep.task].scope,
                         key: u.key, outputs: u.outputs)
        }
        var params = stage.params
        if stage.kind.readsStudyRecord, case .object(var fields) = params {
            fields["study"] = Provenance.studyRecord(spec)
            params = .object(fields)
        }
        var d = TaskDescription(key: "", stage: stage.name, kind: stage.kind.name, kindVersion: stage.kind.version,
                                params: params, scope: task.scope, sources: task.sources, inputs: inputs,
                                memory: task.memory, threads: task.threads,
                                transient: dropsPromptly[task.stageIndex])
        d.key = d.computedKey
        return d
    }
}

/// A stage's source problems, each reported once with the scopes it concerns: one missing atlas
/// or a misspelt folder is one line, not one per scan. Messages that differ only in the scope's
/// own labels (`sub-01`, `ses-baseline`, `run-1`: each scan's path) count as one problem, shown
/// by its first scope's message. A problem with a source the spec names (`atlas`, a seed's
/// `mask`) points at that key.
private struct SourceProblems {
    let stage: StageSpec
    private var order: [String] = []
    private var entries: [String: (key: String?, messages: [String], scopes: [String])] = [:]

    init(stage: StageSpec) { self.stage = stage }

    mutating func add(source name: String?, _ message: String, scope: Scope) {
        var signature = message
        for label in [scope.subject.map { "sub-" + $0 }, scope.session.map { "ses-" + $0 }, scope.run.map { "run-" + $0 }].compactMap({ $0 }) {
            signature = signature.replacingOccurrences(of: label, with: "\u{0}")
        }
        // The key, if the stage's object has it (a default name that is no key points nowhere).
        let key = name.flatMap { stage.kind.sourceParameter($0) }.flatMap { path -> String? in
            let first = path.prefix { $0 != "." && $0 != "[" }
            return stage.node?.member(String(first)) != nil ? path : nil
        }
        signature = (key ?? "") + "\u{1}" + signature
        if entries[signature] == nil { order.append(signature); entries[signature] = (key, [], []) }
        entries[signature]!.messages.append(message)
        entries[signature]!.scopes.append(scope.label)
    }

    func report(to d: SpecDiagnostics, of total: Int) {
        for signature in order {
            let e = entries[signature]!
            let (location, path) = e.key.map { (stage.location(of: $0), "stages.\(stage.name).\($0)") } ?? (stage.location, "stages.\(stage.name)")
            let noun = stage.kind.fanOut == .perSubject ? "subjects" : "scans"
            var message: String
            if e.scopes.count == 1 {
                message = e.scopes[0] == Scope.group.label ? e.messages[0] : "\(e.scopes[0]): \(e.messages[0])"
            } else {
                let which = e.scopes.count == total ? "all \(total) \(noun)" : "\(e.scopes.count) \(noun): \(e.scopes.listed())"
                message = Set(e.messages).count == 1 ? "\(e.messages[0]), in \(which)" : "in \(which); the first, \(e.scopes[0]): \(e.messages[0])"
            }
            if stage.kind.fanOut == .perScan && e.scopes.count < total { message += MissingScans.hint(e.scopes.count) }
            d.report(location, path, message)
        }
    }
}

/// How to leave out scans a problem concerns when it is not every scan's.
public enum MissingScans {
    /// "; to leave this scan out, list it in cohort.missing_scans" (or these scans, them).
    public static func hint(_ count: Int) -> String {
        count == 1 ? "; to leave this scan out, list it in cohort.missing_scans" : "; to leave these scans out, list them in cohort.missing_scans"
    }
}

extension Array where Element == String {
    /// The first `shown` elements joined by commas, and how many more there are.
    public func listed(shown: Int = 8) -> String {
        prefix(shown).joined(separator: ", ") + (count > shown ? " and \(count - shown) more" : "")
    }
}
