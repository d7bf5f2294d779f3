/// How a stage kind expands over the cohort.
public enum FanOut: String, Sendable, CaseIterable {
    /// One task per scan: subject x session (x run).
    case perScan
    /// One task per subject.
    case perSubject
    /// One task for the whole cohort (fan-in).
    case group
}

extension FanOut {
    /// How a person says it: "per scan", "per subject", "group".
    public var words: String {
        switch self {
        case .perScan: return "per scan"
        case .perSubject: return "per subject"
        case .group: return "group"
        }
    }
}
