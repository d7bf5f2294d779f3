/// The subjects, sessions and runs a study covers, resolved from the spec (and its table).
public struct Cohort: Sendable, Equatable {
    /// Subject labels without the `sub-` prefix, in cohort order.
    public var subjects: [String]
    /// Session labels, or `[nil]` for a study without sessions.
    public var sessions: [String?]
    /// Run labels, or `[nil]` for a study without runs.
    public var runs: [String?]
    /// Scans known not to exist, by label (`sub-12_ses-day13`, or with a run); a label without a
    /// run covers every run of that session. Their tasks are not planned, so a subject missing a
    /// session keeps its other scans and group stages see it with one session.
    public var missing: Set<String>
    /// The runs found on disk for each subject and session, keyed by the session's scan label
    /// (`sub-01_ses-1`, or `sub-01`), when ``runs`` lists none and a stage kind finds them (see
    /// ``StageKind/runsOnDisk(stage:subject:session:directory:)``); empty otherwise. A nil run is a
    /// file without a run entity. A subject and session absent from it keep ``runs``.
    public var runsFound: [String: [String?]] = [:]
    /// Every subject the participants table has a row for, kept or not (nil for an explicit
    /// `subjects` list): a subject with data but no row is in no cohort, which the check says.
    public var tableSubjects: Set<String>?

    /// Creates a cohort.
    public init(subjects: [String], sessions: [String?] = [nil], runs: [String?] = [nil], missing: Set<String> = []) {
        self.subjects = subjects
        self.sessions = sessions.isEmpty ? [nil] : sessions
        self.runs = runs.isEmpty ? [nil] : runs
        self.missing = missing
    }

    /// Every scan scope: subjects x sessions x runs (the cohort's, or those found on disk), in that
    /// nesting order.
    public var scans: [Scope] {
        var out: [Scope] = []
        for s in subjects { out += scans(of: s) }
        return out
    }

    /// The scan scopes of one subject.
    public func scans(of subject: String) -> [Scope] {
        var out: [Scope] = []
        for ses in sessions {
            for run in runsFound[Scope.scan(subject: subject, session: ses, run: nil).label] ?? runs {
                let scan = Scope.scan(subject: subject, session: ses, run: run)
                if missing.contains(scan.label) || missing.contains(Scope.scan(subject: subject, session: ses, run: nil).label) { continue }
                out.append(scan)
            }
        }
        return out
    }
}
