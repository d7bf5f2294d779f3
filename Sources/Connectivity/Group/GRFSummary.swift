/// Parametric Gaussian-random-field cluster inference of one contrast, "as published", as the
/// summary lists it (`GroupSummary.grf`). Not FWE-calibrated; never the default.
struct GRFSummary: Codable, Sendable, Equatable {
    var contrast: String
    /// The cluster-forming z threshold (`grf_z`).
    var zThreshold: Double
    /// The cluster alpha (`grf_alpha`).
    var alpha: Double
    /// Smoothness of the model residuals, FWHM in voxels along x, y, z.
    var fwhmVoxels: [Double]
    var reselSize: Double
    /// Clusters with GRF p < alpha.
    var significantClusters: Int
    var note = "parametric GRF cluster inference, as published (DPABI/SPM style); not FWE-calibrated"

    enum CodingKeys: String, CodingKey {
        case contrast, alpha, note
        case zThreshold = "z_threshold", fwhmVoxels = "fwhm_voxels", reselSize = "resel_size", significantClusters = "significant_clusters"
    }
}
