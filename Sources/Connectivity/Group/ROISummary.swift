/// The `roi` stage's `<prefix>_summary.json`: per region, how it was defined, its paired tests,
/// correlations and prediction (the same numbers as the stage's TSV tables).
struct ROISummary: Codable, Sendable, Equatable {
    /// The seed, "" with `maps` and no seed.
    var seed: String
    var pre: String
    /// "" without a follow-up session.
    var post: String
    /// `sub-<label>` of every subject.
    var subjects: [String]
    var regions: [Region]
    /// The scans left out, each with the rule, value and threshold: those the study's `qc` stage
    /// excluded, and runs `clean` refused (nil when the stage reads no qc stage and no run was
    /// refused).
    var excludedByQC: [String]? = nil
    /// `sub-<label>` of the included subjects with a map at another session but none at `pre`,
    /// who have no value and are left out.
    var noMapAtPre: [String] = []
    /// What each subject's map averages: session ("" without sessions) → `sub-<label>` → its
    /// runs (after exclusions); nil when no scan has a run entity.
    var runs: [String: [String: [String]]]? = nil
    /// How maps on a grid other than the first map's were read (`resample`).
    var resample: GroupMaps.Resampling = .none

    enum CodingKeys: String, CodingKey {
        case seed, pre, post, subjects, regions, runs, resample, excludedByQC = "excluded_by_qc", noMapAtPre = "no_map_at_pre"
    }

    /// One region's results.
    struct Region: Codable, Sendable, Equatable {
        var name: String
        /// Where it came from ("atlas label 3", "cluster 1 of …").
        var source: String
        /// How its values were defined: fixed, circular, or leave-one-out.
        var definition: String
        /// `sub-<label>` of the subjects whose values come from a region refitted without them
        /// (those the region was defined on).
        var leaveOneOutSubjects: [String]
        /// Those of them left without a value: no such cluster without them, or a design that
        /// cannot be fitted without them (`definition` says which).
        var leaveOneOutWithoutRegion: [String] = []
        /// Paired tests pre → post, everyone then each group level; nil without `post`.
        var paired: [Paired]?
        var correlations: [Correlation]
        /// nil without `predict`.
        var prediction: Prediction?

        enum CodingKeys: String, CodingKey {
            case name, source, definition, paired, correlations, prediction
            case leaveOneOutSubjects = "leave_one_out_subjects", leaveOneOutWithoutRegion = "leave_one_out_without_region"
        }
    }

    /// A paired t-test of the change post − pre in one subset of subjects.
    struct Paired: Codable, Sendable, Equatable {
        /// "all", or a level of the group column.
        var subjects: String
        var n: Int
        var meanChange: Double
        var t: Double
        var p: Double
        var cohenDz: Double

        enum CodingKeys: String, CodingKey {
            case subjects, n, t, p
            case meanChange = "mean_change", cohenDz = "cohen_dz"
        }
    }

    /// Pearson and Spearman correlation of a region value (`x`: "change" or the pre session) with
    /// a clinical column (`y`).
    struct Correlation: Codable, Sendable, Equatable {
        var x: String
        var y: String
        var n: Int
        var pearsonR: Double
        var pearsonP: Double
        var spearmanRho: Double
        var spearmanP: Double

        enum CodingKeys: String, CodingKey {
            case x, y, n
            case pearsonR = "pearson_r", pearsonP = "pearson_p", spearmanRho = "spearman_rho", spearmanP = "spearman_p"
        }
    }

    /// ROC prediction of a class from the region's value at one session, or why there is none.
    enum Prediction: Codable, Sendable, Equatable {
        case fitted(Fitted)
        /// Written as `{"note": …}`.
        case notFitted(note: String)

        /// ROC AUC with its DeLong 95% CI and permutation p.
        struct Fitted: Codable, Sendable, Equatable {
            var column: String
            var positive: String
            var session: String
            /// "higher" or "lower": which way the positive class's values go (the spec's
            /// `predict.direction`), so that a reader draws the ROC curve the AUC was computed on.
            var direction: String
            var auc: Double
            /// [low, high].
            var ci95: [Double]
            var permutationP: Double
            /// Whether the values were leave-one-out or fixed.
            var values: String
            /// The circular in-sample AUC, for comparison, when leave-one-out values were used.
            @NullWhenAbsent var inSampleAUCCircular: Double?

            enum CodingKeys: String, CodingKey {
                case column, positive, session, direction, auc, ci95, values
                case permutationP = "permutation_p", inSampleAUCCircular = "in_sample_auc_circular"
            }
        }

        private enum CodingKeys: String, CodingKey { case note }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            if let note = try c.decodeIfPresent(String.self, forKey: .note) {
                self = .notFitted(note: note)
            } else {
                self = .fitted(try Fitted(from: decoder))
            }
        }

        func encode(to encoder: any Encoder) throws {
            switch self {
            case .fitted(let fitted):
                try fitted.encode(to: encoder)
            case .notFitted(let note):
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(note, forKey: .note)
            }
        }
    }
}
