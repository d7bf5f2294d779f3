import Foundation

/// What a kind's plan-time check sees: the study (cohort, stages, folders) and a way to report a
/// problem at the spec line of the parameter it concerns. Used by `validate`, `plan` and `run`
/// alike, before any task starts.
public final class StudyCheck: @unchecked Sendable {
    /// The study, as validated so far.
    public let spec: StudySpec
    private let diagnostics: SpecDiagnostics
    /// What cannot be checked until upstream tasks have run, one line per stage and subject.
    public private(set) var deferred: [String] = []

    init(spec: StudySpec, diagnostics: SpecDiagnostics) {
        self.spec = spec
        self.diagnostics = diagnostics
    }

    /// Reports a problem with `stage`'s parameter at `path` (`"seeds[1].label"`).
    public func report(_ stage: StageSpec, _ path: String, _ message: String) {
        diagnostics.report(stage.location(of: path), "stages.\(stage.name).\(path)", message)
    }

    /// Reports a problem at another place of the spec (a cohort key, say).
    public func report(at location: SourceLocation, _ path: String, _ message: String) {
        diagnostics.report(location, path, message)
    }

    /// What the check noticed that is no error but should not pass unsaid, one line each.
    public private(set) var notes: [String] = []

    /// Records a note about `stage` (`validate`, `plan` and `run` print it); one of several
    /// stages that notice the same thing is kept once.
    public func note(_ stage: StageSpec, _ what: String) {
        if !notes.contains(where: { $0.hasSuffix(": " + what) }) { notes.append("\(stage.name): \(what)") }
    }

    /// Records that something of `stage` will only be checked when its inputs exist (`pipe plan`
    /// lists these).
    public func checkLater(_ stage: StageSpec, _ what: String) {
        deferred.append("\(stage.name): \(what)")
    }

    /// A path of the spec (relative to its folder, or absolute) as an absolute path, `.` and `..`
    /// resolved, so that two spellings of one file compare equal.
    public func path(_ relative: String) -> String {
        (relative.hasPrefix("/") ? URL(fileURLWithPath: relative) : spec.directory.appendingPathComponent(relative)).standardizedFileURL.path
    }

    /// The stage named `name`.
    public func stage(_ name: String) -> StageSpec? { spec.stage(named: name) }

    /// The value of `key`, made once per check: what several stages' checks read of the same
    /// files (the runs of a `clean` stage, say) is read once. `make` must not call `memo` (the
    /// lock is held while it runs): take what it needs from other memos first.
    public func memo<T>(_ key: String, _ make: () -> T) -> T {
        memoLock.lock()
        defer { memoLock.unlock() }
        // By presence, not by a cast: a nil value of an optional T is a known value too.
        if let known = memos[key] { return known as! T }
        let value = make()
        memos[key] = value
        return value
    }

    private let memoLock = NSLock()
    private var memos: [String: Any] = [:]

    /// Whether any problem has been reported so far.
    public var hasProblems: Bool { !diagnostics.issues.isEmpty }
}
