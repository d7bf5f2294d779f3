/// One column of a BIDS tabular file's JSON sidecar (`participants.json`): its description, and
/// the meaning of each level or its units.
struct BIDSColumn: Codable, Sendable, Equatable {
    var description: String
    /// Level → meaning, for a categorical column.
    var levels: [String: String]? = nil
    var units: String? = nil

    enum CodingKeys: String, CodingKey {
        case description = "Description", levels = "Levels", units = "Units"
    }
}
