/// The subjects, sessions and runs a study covers, resolved from the spec (and its table).
public struct Cohort: Sendable, Equatable {
    /// Subject labels without the `sub-` prefix, in cohort order.
    public var subjects: [String]
    /// Session labels, or `[nil]` for a study without sessions.
    public var sessions: [String?]
    /// Run labels, or `[nil]` for a study without runs.
    public var runs: [String?]

    /// Creates a cohort.
    public init(subjects: [String], sessions: [String?] = [nil], runs: [String?] = [nil]) {
        self.subjects = subjects
        self.sessions = sessions.isEmpty ? [nil] : sessions
        self.runs = runs.isEmpty ? [nil] : runs
    }

    /// Every scan scope: subjects x sessions x runs, in that nesting order.
    public var scans: [Scope] {
        var out: [Scope] = []
        for s in subjects { out += scans(of: s) }
        return out
    }

    /// The scan scopes of one subject.
    public func scans(of subject: String) -> [Scope] {
        var out: [Scope] = []
        for ses in sessions { for run in runs { out.append(.scan(subject: subject, session: ses, run: run)) } }
        return out
    }
}
