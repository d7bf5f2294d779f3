/// How a stage kind expands over the cohort.
public enum FanOut: String, Sendable, CaseIterable {
    /// One task per scan: subject x session (x run).
    case perScan
    /// One task per subject.
    case perSubject
    /// One task for the whole cohort (fan-in).
    case group
}
