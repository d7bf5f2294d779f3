import Numerics

/// The `group` stage's `<prefix>_summary.json`: the inference of every contrast, F-test and GRF
/// test, and what an `roi` stage needs to redefine a significant cluster without a held-out
/// subject (the subjects, the design, and the cluster-forming settings).
///
/// The `group` stage writes it and the `roi` stage reads it, both through this type
/// (`OutputJSON`), so a renamed field fails to compile in both.
struct GroupSummary: Codable, Sendable, Equatable {
    /// The seed, "" with `maps` and no seed.
    var seed: String
    /// The session, "" when the cohort has no sessions.
    var session: String
    /// The subjects in the model, without `sub-`, in design-row order.
    var subjects: [String]
    /// Values filled with the voxel mean because a subject's map did not cover the voxel.
    var filledValues: Int
    var design: Design
    /// The cluster-forming p (`cluster_p`).
    var clusterP: Double
    /// The fraction of subjects that must cover a voxel (`mask`).
    var maskCoverage: Double
    var resample: GroupMaps.Resampling
    var twoSided: Bool
    var connectivity: VoxelConnectivity
    var contrasts: [ContrastSummary]
    var fTests: [FTestSummary]
    var grf: [GRFSummary]
    /// The maps table's file name, nil when the maps came from a connectivity stage.
    var maps: String?
    /// The scans left out, each with the rule, value and threshold: those the study's `qc` stage
    /// excluded, and runs `clean` refused (nil when the stage reads no qc stage and no run was
    /// refused).
    var excludedByQC: [String]? = nil
    /// `sub-<label>` of the included subjects with a map at another session but none at this
    /// one (a scan the cohort lists as missing, say), which the test leaves out; nil without a
    /// session, or with a maps table (whose rows at the session are the subjects it has).
    var noMapAtSession: [String]? = nil
    /// What each subject's map averages: session ("" without sessions) → subject → its runs
    /// (after exclusions); nil when no scan has a run entity.
    var runs: [String: [String: [String]]]? = nil

    /// The model's design as the spec gave it (see `GroupDesign.Spec`).
    struct Design: Codable, Sendable, Equatable {
        @NullWhenAbsent var group: String?
        var covariates: [String]
        var interactions: [String]

        init(_ spec: GroupDesign.Spec) {
            group = spec.group
            covariates = spec.covariates
            interactions = spec.interactions
        }

        /// The design spec to refit the model with (covariates demeaned, as the group stage does).
        var spec: GroupDesign.Spec { GroupDesign.Spec(group: group, covariates: covariates, interactions: interactions) }
    }

    enum CodingKeys: String, CodingKey {
        case seed, session, subjects, design, resample, connectivity, contrasts, grf, maps, runs
        case filledValues = "filled_values", clusterP = "cluster_p", maskCoverage = "mask_coverage", twoSided = "two_sided"
        case fTests = "f_tests", excludedByQC = "excluded_by_qc", noMapAtSession = "no_map_at_session"
    }
}
