/// One F-test of a voxelwise model as its stage's summary lists it (`GroupSummary.fTests`):
/// the parametric F, and the permutation inference on F unless no relabeling can change it.
struct FTestSummary: Codable, Sendable, Equatable {
    /// The contrasts tested jointly.
    var contrasts: [String]
    /// Numerator (contrasts) and denominator (residual) degrees of freedom.
    var dfn: Int
    var dfd: Int
    var maxF: Double
    /// The permutation inference; nil when it was not done (then `notPermuted` says why).
    var permutation: Permutation?
    /// Why there is no permutation inference ("not done: …; parametric maps only").
    var notPermuted: String?

    /// Permutation inference on F: written in the same JSON object as the F-test's other fields.
    struct Permutation: Codable, Sendable, Equatable {
        var permutations: Int
        var exhaustive: Bool
        /// The cluster-forming F threshold (from `cluster_p`).
        var clusterThresholdF: Double
        var minPFWEMaxF: Double
        @NullWhenAbsent var minPFWECluster: Double?
        @NullWhenAbsent var minPFWETFCE: Double?
        /// Voxels with primary FWE p (TFCE, else max-F) < alpha.
        var significantVoxels: Int

        enum CodingKeys: String, CodingKey {
            case permutations, exhaustive
            case clusterThresholdF = "cluster_threshold_F", minPFWEMaxF = "min_p_fwe_maxF", minPFWECluster = "min_p_fwe_cluster"
            case minPFWETFCE = "min_p_fwe_tfce", significantVoxels = "significant_voxels"
        }
    }

    enum CodingKeys: String, CodingKey {
        case contrasts, dfn, dfd
        case maxF = "max_F", notPermuted = "permutation"
    }

    init(contrasts: [String], dfn: Int, dfd: Int, maxF: Double, permutation: Permutation? = nil, notPermuted: String? = nil) {
        self.contrasts = contrasts
        self.dfn = dfn
        self.dfd = dfd
        self.maxF = maxF
        self.permutation = permutation
        self.notPermuted = notPermuted
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        contrasts = try c.decode([String].self, forKey: .contrasts)
        dfn = try c.decode(Int.self, forKey: .dfn)
        dfd = try c.decode(Int.self, forKey: .dfd)
        maxF = try c.decode(Double.self, forKey: .maxF)
        notPermuted = try c.decodeIfPresent(String.self, forKey: .notPermuted)
        permutation = notPermuted == nil ? try Permutation(from: decoder) : nil
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(contrasts, forKey: .contrasts)
        try c.encode(dfn, forKey: .dfn)
        try c.encode(dfd, forKey: .dfd)
        try c.encode(maxF, forKey: .maxF)
        try c.encodeIfPresent(notPermuted, forKey: .notPermuted)
        try permutation?.encode(to: encoder)
    }
}
