/// `qc_summary.json`, the `qc` stage's summary: what its rules excluded and QC-FC per session.
struct QCSummary: Codable, Sendable, Equatable {
    /// The rules in force (absent: off).
    struct Rules: Codable, Sendable, Equatable {
        var maxMeanFD: Double?
        var maxCensoredFraction: Double?
        var minKeptVolumes: Int?
        var minSeedCoverage: Double?
        var minDOF: Int?

        enum CodingKeys: String, CodingKey {
            case maxMeanFD = "max_mean_fd", maxCensoredFraction = "max_censored_fraction", minKeptVolumes = "min_kept_volumes"
            case minSeedCoverage = "min_seed_coverage", minDOF = "min_dof"
        }
    }

    /// QC-FC of one session's scans.
    struct QCFC: Codable, Sendable, Equatable {
        var scans: Int
        var edges: Int
        var fractionSignificantUncorrected: Double
        var fractionSignificantFDR: Double
        var medianAbsQCFC: Double
        var distanceDependenceR: Double?
        var distanceDependenceP: Double?

        enum CodingKeys: String, CodingKey {
            case scans, edges, fractionSignificantUncorrected = "fraction_significant_uncorrected"
            case fractionSignificantFDR = "fraction_significant_fdr", medianAbsQCFC = "median_abs_qcfc"
            case distanceDependenceR = "distance_dependence_r", distanceDependenceP = "distance_dependence_p"
        }
    }

    var scans: Int
    var excludedScans: Int
    var exclusionsByRule: [String: Int]
    var rules: Rules
    /// By session ("all" for a study without sessions).
    var qcfc: [String: QCFC]

    enum CodingKeys: String, CodingKey {
        case scans, excludedScans = "excluded_scans", exclusionsByRule = "exclusions_by_rule", rules, qcfc
    }
}
