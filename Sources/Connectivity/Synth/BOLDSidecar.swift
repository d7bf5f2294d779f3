/// The JSON sidecar of a synthetic fMRIPrep-like preprocessed BOLD run.
struct BOLDSidecar: Codable, Sendable, Equatable {
    /// Seconds.
    var repetitionTime: Double
    var taskName: String
    var skullStripped: Bool
    var sources: [String]

    enum CodingKeys: String, CodingKey {
        case repetitionTime = "RepetitionTime", taskName = "TaskName", skullStripped = "SkullStripped", sources = "Sources"
    }
}
