import Foundation

/// Reads a study spec: parses JSON with locations, applies `--set` overrides, validates every
/// section, resolves the cohort and orders stages.
///
/// Every problem reads `file:line:col json.path: message`; all problems found are reported together.
public struct SpecLoader: Sendable {
    /// The spec format version this engine reads.
    public static let supportedVersion = 1
    static let topKeys = ["pipe", "name", "cache", "outputs", "cohort", "stages", "slurm"]
    static let stageKeys = ["kind", "from", "publish", "memory", "threads", "keep"]
    /// A spec larger than this is refused before it is read (a spec is a few kilobytes).
    public static let maxSpecBytes: Int64 = 64 << 20
    /// The largest per-task memory estimate a stage may give: 1 PiB, in MiB.
    static let maxMemoryMiB: Double = 1_073_741_824
    /// The most CPUs a stage may ask for per task.
    static let maxThreads = 1024

    /// The kinds stages may use.
    public var registry: StageRegistry

    /// Creates a loader for `registry`.
    public init(registry: StageRegistry) { self.registry = registry }

    /// Loads and validates the spec at `url`.
    /// - Parameters:
    ///   - overrides: `path=value` strings (`--set`), applied in order before validation.
    ///   - cacheDirectory: overrides the spec's cache folder (`--cache-dir`).
    /// - Throws: ``PipeError`` `.invalidSpec` (exit code 2) listing every problem.
    public func load(_ url: URL, overrides: [String] = [], cacheDirectory: URL? = nil) throws -> StudySpec {
        let specURL = url.standardizedFileURL
        let fileName = specURL.lastPathComponent
        let bytes: [UInt8]
        do { bytes = try FileSystem.read(specURL.path, maxBytes: Self.maxSpecBytes) } catch let e as PipeError {
            throw PipeError(.invalidSpec, "cannot read spec: \(e.message)")
        }
        var parser = JSONParser(bytes: bytes, file: fileName)
        var root = try parser.parseDocument()
        for o in overrides { try SpecOverride.apply(o, to: &root) }
        var spec = try validate(root, specURL: specURL, cacheDirectory: cacheDirectory)
        spec.specSHA256 = FileSystem.hex(SHA256.hash(data: bytes))
        spec.overrides = overrides
        return spec
    }

    /// Validates a parsed document (see ``load(_:overrides:cacheDirectory:)``).
    public func validate(_ root: JSONNode, specURL: URL, cacheDirectory: URL? = nil) throws -> StudySpec {
        let d = SpecDiagnostics()
        let dir = specURL.deletingLastPathComponent()
        guard let top = root.members else {
            d.report(root.location, "(root)", "expected an object, got \(root.shortDescription)")
            try d.throwIfAny()
            fatalError("unreachable")
        }
        for m in top where !Self.topKeys.contains(m.key) {
            d.report(m.keyLocation, m.key, "unknown key" + EditDistance.didYouMean(m.key, among: Self.topKeys))
        }
        // Version first: a spec of another version is not checked further.
        if let v = root.member("pipe") {
            if case .number(let n) = v.value.kind, n == Double(Self.supportedVersion) {
            } else if case .number(let n) = v.value.kind {
                throw PipeError(.invalidSpec, "\(v.value.location) pipe: unsupported spec version \(JSONValue.format(number: n)); this pipe reads version \(Self.supportedVersion)")
            } else {
                d.report(v.value.location, "pipe", "expected the spec version number \(Self.supportedVersion), got \(v.value.shortDescription)")
            }
        } else {
            d.report(root.location, "pipe", "missing the spec version: add \"pipe\": \(Self.supportedVersion)")
        }
        var name: String?
        if let n = root.member("name") {
            if case .string(let s) = n.value.kind { name = s }
            else { d.report(n.value.location, "name", "expected a string, got \(n.value.shortDescription)") }
        }
        func folder(_ key: String, _ def: String) -> URL {
            guard let m = root.member(key) else { return dir.appendingPathComponent(def) }
            guard case .string(let s) = m.value.kind, !s.isEmpty else {
                d.report(m.value.location, key, "expected a folder path string, got \(m.value.shortDescription)")
                return dir.appendingPathComponent(def)
            }
            return s.hasPrefix("/") ? URL(fileURLWithPath: s) : dir.appendingPathComponent(s)
        }
        let cache = cacheDirectory ?? folder("cache", "cache")
        let outputs = folder("outputs", "out")
        Self.checkFolders(outputs: outputs, cache: cache, root: root, cacheFromCommandLine: cacheDirectory != nil, diagnostics: d)

        var cohort = Cohort(subjects: [])
        if let c = root.member("cohort") {
            cohort = CohortReader(directory: dir, diagnostics: d).read(c.value)
        } else {
            d.report(root.location, "cohort", "missing the cohort section")
        }
        var stages: [StageSpec] = []
        if let s = root.member("stages") {
            stages = readStages(s.value, diagnostics: d)
        } else {
            d.report(root.location, "stages", "missing the stages section")
        }
        let slurm = root.member("slurm").map { SlurmSettings.read($0.value, diagnostics: d) } ?? SlurmSettings()
        // A problem in some stages' own keys still lets the others be checked against the study's
        // files below, so that one round of validate shows both (not the data's problems only
        // after the keys are mended).
        var unchecked: [StageSpec] = []
        if !d.issues.isEmpty {
            guard let bad = d.stagesConcerned(), let (good, rest) = checkable(stages, bad: bad), !good.isEmpty else { try d.throwIfAny(); fatalError("unreachable") }
            (stages, unchecked) = (good, rest)
        }
        if cohort.runs == [nil] { cohort.runsFound = Self.runsOnDisk(cohort: cohort, stages: stages, directory: dir) }
        var spec = StudySpec(specURL: specURL, directory: dir, name: name, cacheDirectory: cache.standardizedFileURL,
                             outputDirectory: outputs.standardizedFileURL, cohort: cohort, stages: stages)
        spec.slurm = slurm
        // Names and values against the study's files and the other stages, before anything runs.
        let check = StudyCheck(spec: spec, diagnostics: d)
        for stage in spec.stages { stage.kind.check(stage: stage, study: check) }
        if !unchecked.isEmpty {
            d.report(unchecked[0].location, "stages", "not checked against the study's files until the problems above are mended: \(unchecked.map(\.name).listed())")
        }
        try d.throwIfAny()
        spec.deferredChecks = check.deferred
        spec.notes = check.notes
        return spec
    }

    /// The runs that the per-scan stages find on disk for each subject and session of a cohort that
    /// lists no runs: the union over stages, in run order (no run first, then numbers by value,
    /// then other labels). Empty when no stage finds runs.
    static func runsOnDisk(cohort: Cohort, stages: [StageSpec], directory: URL) -> [String: [String?]] {
        var found: [String: [String?]] = [:]
        for subject in cohort.subjects {
            for session in cohort.sessions {
                var runs: [String?]?
                for stage in stages where stage.kind.fanOut == .perScan {
                    guard let more = stage.kind.runsOnDisk(stage: stage, subject: subject, session: session, directory: directory) else { continue }
                    runs = (runs ?? []) + more.filter { run in !(runs ?? []).contains(run) }
                }
                guard let runs else { continue }
                found[Scope.scan(subject: subject, session: session, run: nil).label] = runs.sorted { a, b in
                    switch (a, b) {
                    case (nil, _): return b != nil
                    case (_, nil): return false
                    case let (x?, y?):
                        if let i = Int(x), let j = Int(y), i != j { return i < j }
                        if (Int(x) == nil) != (Int(y) == nil) { return Int(x) != nil }
                        return x < y
                    }
                }
            }
        }
        return found
    }

    /// Refuses an output folder that pipe must never publish into: `/`, the home folder, the
    /// root of a file system, or one that overlaps the cache (equal, inside, or containing it).
    static func checkFolders(outputs: URL, cache: URL, root: JSONNode, cacheFromCommandLine: Bool, diagnostics d: SpecDiagnostics) {
        let out = FileSystem.resolvedPath(outputs.path), cached = FileSystem.resolvedPath(cache.path)
        let outLocation = root.member("outputs")?.value.location ?? root.location
        let home = ProcessInfo.processInfo.environment["HOME"].map(FileSystem.resolvedPath)
        if out == "/" || out == home || FileSystem.isMountPoint(out) {
            d.report(outLocation, "outputs", "\(out) is \(out == "/" ? "the root folder" : out == home ? "the home folder" : "the root of a file system"); "
                     + "give a folder of its own for the study's outputs, such as \"out\"")
        }
        let cacheWhere = cacheFromCommandLine ? "the cache folder given with --cache-dir" : "the cache folder"
        if out == cached {
            d.report(outLocation, "outputs", "\(out) is also \(cacheWhere); outputs and cache must be separate folders")
        } else if FileSystem.isSameOrInside(out, cached) {
            d.report(outLocation, "outputs", "\(out) is inside \(cacheWhere) \(cached); outputs and cache must not overlap")
        } else if FileSystem.isSameOrInside(cached, out) {
            d.report(root.member("cache")?.value.location ?? outLocation, cacheFromCommandLine ? "outputs" : "cache",
                     "\(cacheWhere) \(cached) is inside the output folder \(out); outputs and cache must not overlap")
        }
    }

    /// Reads the `stages` object: each stage (see ``readStage(_:names:diagnostics:)``), then, when
    /// nothing was reported, their order (see ``ordered(_:diagnostics:)``).
    /// - Returns: the stages in dependency order; in spec order when something was reported.
    private func readStages(_ node: JSONNode, diagnostics d: SpecDiagnostics) -> [StageSpec] {
        guard let members = node.members else {
            d.report(node.location, "stages", "expected an object of named stages, got \(node.shortDescription)")
            return []
        }
        if members.isEmpty { d.report(node.location, "stages", "no stages defined") }
        let names = members.map(\.key)
        let specs = members.compactMap { readStage($0, names: names, diagnostics: d) }
        guard d.issues.isEmpty else { return specs }
        return ordered(specs, diagnostics: d)
    }

    /// Reads one stage. Steps, each reporting its problems: the name; the kind; `from`, and its
    /// count against the kind's; `publish`; `memory`; the kind's parameters (every other key).
    /// - Returns: `nil` when the stage is not an object or its kind is missing or unknown.
    private func readStage(_ m: JSONNode.Member, names: [String], diagnostics d: SpecDiagnostics) -> StageSpec? {
        let path = "stages.\(m.key)"
        if m.key.isEmpty || m.key.contains(where: { !($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }) {
            d.report(m.keyLocation, path, "stage names may use letters, digits, '_' and '-'")
        }
        guard let fields = m.value.members else {
            d.report(m.value.location, path, "expected a stage object, got \(m.value.shortDescription)")
            return nil
        }
        guard let (kind, kindName) = readKind(m.value, path: path, diagnostics: d) else { return nil }
        let from = readFrom(m.value, path: path, names: names, diagnostics: d)
        if !kind.upstreamCount.contains(from.count) {
            let r = kind.upstreamCount
            let want = r.upperBound == Int.max ? "at least \(r.lowerBound)" : (r.lowerBound == r.upperBound ? "exactly \(r.lowerBound)" : "\(r.lowerBound) to \(r.upperBound)")
            d.report(m.value.member("from")?.value.location ?? m.value.location, path + ".from",
                     "kind '\(kindName)' reads \(want) upstream stage(s), got \(from.count)")
        }
        var publish = true
        if let p = m.value.member("publish") {
            if case .bool(let b) = p.value.kind { publish = b }
            else { d.report(p.value.location, path + ".publish", "expected true or false, got \(p.value.shortDescription)") }
        }
        var memory: UInt64?
        if let mm = m.value.member("memory") {
            if case .number(let n) = mm.value.kind, n > 0, n <= Self.maxMemoryMiB { memory = UInt64(n * 1_048_576) }
            else { d.report(mm.value.location, path + ".memory", "expected a number of MiB in 1...\(JSONValue.format(number: Self.maxMemoryMiB)), got \(mm.value.shortDescription)") }
        }
        var keep = true
        if let k = m.value.member("keep") {
            if case .bool(let b) = k.value.kind { keep = b }
            else { d.report(k.value.location, path + ".keep", "expected true or false, got \(k.value.shortDescription)") }
            if !keep, let p = m.value.member("publish"), case .bool(true) = p.value.kind {
                d.report(p.value.location, path + ".publish", "a stage with keep: false drops its data once it is read, so it cannot also be published")
            }
        }
        if !keep { publish = false }
        var threads: Int?
        if let t = m.value.member("threads") {
            if case .number(let n) = t.value.kind, n.rounded() == n, n >= 1, n <= Double(Self.maxThreads) { threads = Int(n) }
            else { d.report(t.value.location, path + ".threads", "expected a whole number of CPUs in 1...\(Self.maxThreads), got \(t.value.shortDescription)") }
        }
        let reader = ParameterReader(members: fields.filter { !Self.stageKeys.contains($0.key) },
                                     stageLocation: m.value.location, path: path,
                                     diagnostics: d, reserved: Self.stageKeys, upstream: from)
        let typed = kind.typedParameters(reader)
        let params = reader.finish()
        var spec = StageSpec(name: m.key, kind: kind, from: from, params: params, publish: publish,
                         memory: memory, threads: threads, location: m.keyLocation, typedParameters: typed, node: m.value)
        spec.keep = keep
        return spec
    }

    /// A stage's `kind`: the registered kind and its name, or `nil` (reported) when it is missing,
    /// not a string, or unknown (with a did-you-mean and the known kinds).
    private func readKind(_ stage: JSONNode, path: String, diagnostics d: SpecDiagnostics) -> (any StageKind, String)? {
        guard let kindMember = stage.member("kind") else {
            d.report(stage.location, path + ".kind", "missing the stage kind; known kinds: \(registry.names.joined(separator: ", "))")
            return nil
        }
        guard case .string(let kindName) = kindMember.value.kind else {
            d.report(kindMember.value.location, path + ".kind", "expected a kind name string, got \(kindMember.value.shortDescription)")
            return nil
        }
        guard let kind = registry.kind(named: kindName) else {
            let known = registry.names.isEmpty ? "no kinds are registered" : "known kinds: \(registry.names.joined(separator: ", "))"
            d.report(kindMember.value.location, path + ".kind",
                     "unknown kind '\(kindName)'" + EditDistance.didYouMean(kindName, among: registry.names) + "; \(known)")
            return nil
        }
        return (kind, kindName)
    }

    /// A stage's `from`: one stage name or a list of them (empty when absent). Reports items that
    /// are not strings, names not among `names`, and a name listed twice.
    private func readFrom(_ stage: JSONNode, path: String, names: [String], diagnostics d: SpecDiagnostics) -> [String] {
        guard let f = stage.member("from") else { return [] }
        var from: [String] = []
        var locs: [SourceLocation] = []
        switch f.value.kind {
        case .string(let s): from = [s]; locs = [f.value.location]
        case .array(let items):
            for (i, item) in items.enumerated() {
                if case .string(let s) = item.kind { from.append(s); locs.append(item.location) }
                else { d.report(item.location, "\(path).from[\(i)]", "expected a stage name, got \(item.shortDescription)") }
            }
        default:
            d.report(f.value.location, path + ".from", "expected a stage name or a list of stage names, got \(f.value.shortDescription)")
        }
        for (i, up) in from.enumerated() where !names.contains(up) {
            d.report(locs[i], "\(path).from[\(i)]", "unknown stage '\(up)'" + EditDistance.didYouMean(up, among: names))
        }
        if Set(from).count != from.count { d.report(f.value.location, path + ".from", "a stage is listed twice") }
        return from
    }

    /// The stages that can be checked against the study's files although others have problems:
    /// those without problems whose upstream stages have none either (transitively), in order;
    /// and the rest, in spec order. `nil` when the good ones cannot be ordered.
    private func checkable(_ specs: [StageSpec], bad: Set<String>) -> (good: [StageSpec], rest: [StageSpec])? {
        var excluded = bad
        var changed = true
        while changed {
            changed = false
            for s in specs where !excluded.contains(s.name) && s.from.contains(where: { f in excluded.contains(f) || !specs.contains { $0.name == f } }) {
                excluded.insert(s.name); changed = true
            }
        }
        let scratch = SpecDiagnostics()
        let good = ordered(specs.filter { !excluded.contains($0.name) }, diagnostics: scratch)
        guard scratch.issues.isEmpty else { return nil }
        return (good, specs.filter { excluded.contains($0.name) })
    }

    /// Deterministic topological order: repeatedly takes the first stage (in spec order) whose
    /// upstream stages are all placed.
    /// - Returns: the ordered stages, or `specs` unchanged after reporting a cycle.
    private func ordered(_ specs: [StageSpec], diagnostics d: SpecDiagnostics) -> [StageSpec] {
        var placed: [StageSpec] = []
        var remaining = specs
        while !remaining.isEmpty {
            guard let i = remaining.firstIndex(where: { s in s.from.allSatisfy { f in placed.contains { $0.name == f } } }) else {
                let cycle = Self.findCycle(remaining)
                let first = remaining.first { $0.name == cycle[0] }!
                d.report(first.location, "stages.\(cycle[0]).from", "cycle between stages: \(cycle.joined(separator: " -> "))")
                return specs
            }
            placed.append(remaining.remove(at: i))
        }
        return placed
    }

    /// A cycle among `stages` (every one of which waits on another), as names `a -> b -> a`.
    static func findCycle(_ stages: [StageSpec]) -> [String] {
        let byName = Dictionary(uniqueKeysWithValues: stages.map { ($0.name, $0) })
        var path: [String] = []
        var current = stages[0].name
        while !path.contains(current) {
            path.append(current)
            // Follow an upstream that is itself stuck.
            current = byName[current]!.from.first { byName[$0] != nil }!
        }
        let start = path.firstIndex(of: current)!
        // Upstream direction reversed to read in data-flow order.
        return Array(path[start...] + [current]).reversed()
    }
}
