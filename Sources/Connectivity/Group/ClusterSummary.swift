/// A significant cluster as a voxelwise summary lists it (`ContrastSummary.significantClusters`):
/// cluster-mass FWE p < alpha, numbered 1…K by decreasing mass, as in the contrast's
/// `desc-clusters_dseg` map. An `roi` stage follows one up by its `id`.
struct ClusterSummary: Codable, Sendable, Equatable {
    /// The cluster's value in the `desc-clusters_dseg` map.
    var id: Int
    /// +1 for a cluster of positive statistics, −1 for negative.
    var sign: Int
    var sizeVoxels: Int
    /// Cluster mass: the sum of |t| − threshold over the cluster's voxels.
    var mass: Double
    /// Cluster-mass FWE p.
    var pFWE: Double
    /// The peak in the maps' world coordinates (mm).
    var peakMNI: [Double]
    /// The atlas label at the peak, "" without an atlas or outside every label.
    var peakLabel: String

    enum CodingKeys: String, CodingKey {
        case id, sign, mass
        case sizeVoxels = "size_voxels", pFWE = "p_fwe", peakMNI = "peak_mni", peakLabel = "peak_label"
    }
}
