/// One t contrast of a voxelwise model as its stage's summary lists it (`GroupSummary.contrasts`,
/// `LongitudinalSummary.paired` and `.groupByTime`); see `VoxelwiseInference` for the maps.
///
/// p-values are permutation family-wise error p (max-T, TFCE, cluster mass); a field is `null`
/// when that inference was not run (no TFCE; no cluster-forming threshold).
struct ContrastSummary: Codable, Sendable, Equatable {
    /// The contrast as written in the spec (`"responder > nonresponder"`, `"mean"`).
    var contrast: String
    /// The contrast weights, one per design column.
    var weights: [Double]
    /// The design's column names.
    var columns: [String]
    /// Number of subjects in the model.
    var subjects: Int
    /// Residual degrees of freedom of the t statistic.
    var df: Int
    var voxels: Int
    /// Permutations drawn (or all relabelings when `exhaustive`).
    var permutations: Int
    var exhaustive: Bool
    /// The cluster-forming t threshold (from `cluster_p`).
    var clusterThresholdT: Double
    var maxAbsT: Double
    var minPFWEMaxT: Double
    @NullWhenAbsent var minPFWETFCE: Double?
    @NullWhenAbsent var minPFWECluster: Double?
    @NullWhenAbsent var significantVoxelsTFCE: Int?
    var significantVoxelsMaxT: Int
    /// Number of clusters above the cluster-forming threshold, significant or not.
    var clusters: Int
    /// The clusters with cluster-mass FWE p < alpha, by decreasing mass.
    var significantClusters: [ClusterSummary]
    /// `longitudinal` only: the level of the group column a paired test is within, or "all".
    var group: String? = nil
    /// `longitudinal` only: what was tested, e.g. "paired: mean of 2 - 1 (sign flipping)".
    var test: String? = nil

    enum CodingKeys: String, CodingKey {
        case contrast, weights, columns, subjects, df, voxels, permutations, exhaustive, clusters, group, test
        case clusterThresholdT = "cluster_threshold_t", maxAbsT = "max_abs_t", minPFWEMaxT = "min_p_fwe_maxT"
        case minPFWETFCE = "min_p_fwe_tfce", minPFWECluster = "min_p_fwe_cluster", significantVoxelsTFCE = "significant_voxels_tfce"
        case significantVoxelsMaxT = "significant_voxels_maxT", significantClusters = "significant_clusters"
    }
}
