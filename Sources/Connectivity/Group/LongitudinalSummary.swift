/// The `longitudinal` stage's `<prefix>_summary.json`: each paired test of the change post − pre
/// and each group × time contrast (see `ContrastSummary`), and who was left out.
struct LongitudinalSummary: Codable, Sendable, Equatable {
    /// The seed, "" with `maps` and no seed.
    var seed: String
    var pre: String
    var post: String
    /// The subjects with both sessions, without `sub-`.
    var subjects: [String]
    /// Values filled with the voxel mean because a subject's map did not cover the voxel.
    var filledValues: Int
    /// Subjects with only one of the two sessions, left out.
    var excludedOneSession: [Excluded]
    /// Paired tests, one per `paired` level; each has `group` and `test` set.
    var paired: [ContrastSummary]
    /// Group × time contrasts; each has `test` set.
    var groupByTime: [ContrastSummary]
    /// The maps table's file name, nil when the maps came from a connectivity stage.
    var maps: String?

    /// A subject left out for having only one of the two sessions.
    struct Excluded: Codable, Sendable, Equatable {
        /// `sub-<label>`.
        var participantID: String
        /// The session it has no map at.
        var missing: String

        enum CodingKeys: String, CodingKey {
            case missing
            case participantID = "participant_id"
        }
    }

    /// The scans left out at either session, each with the rule, value and threshold: those the
    /// study's `qc` stage excluded, and runs `clean` refused (nil when the stage reads no qc stage
    /// and no run was refused).
    var excludedByQC: [String]? = nil
    /// What each subject's map averages: session ("" without sessions) → subject → its runs
    /// (after exclusions); nil when no scan has a run entity.
    var runs: [String: [String: [String]]]? = nil

    enum CodingKeys: String, CodingKey {
        case seed, pre, post, subjects, paired, maps, runs
        case filledValues = "filled_values", excludedOneSession = "excluded_one_session", groupByTime = "group_by_time"
        case excludedByQC = "excluded_by_qc"
    }
}
