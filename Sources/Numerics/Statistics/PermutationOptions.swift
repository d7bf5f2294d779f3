/// Options of `PermutationTest` (nilearn `permuted_ols` semantics; defaults per issue 6).
public struct PermutationOptions: Sendable {
    /// Requested number of random relabelings (default 5000). When the number of *distinct*
    /// relabelings N is ≤ this (and `exhaustive` is on), all N are enumerated instead.
    public var permutations: Int = 5000
    /// PRNG seed (xoshiro256**); equal seeds give equal results on every platform and thread count.
    public var seed: UInt64 = 0
    /// Two-sided tests rank |t| (nilearn `permuted_ols` default); one-sided rank t (positive effects).
    public var twoSided: Bool = true
    /// Add an intercept to the confounds unless the tested variable is constant or a confound
    /// column is constant (nilearn `model_intercept`).
    public var modelIntercept: Bool = true
    /// Enumerate all distinct relabelings when there are no more than `permutations` of them.
    public var exhaustive: Bool = true
    /// Relabelings per batched product (B); larger amortises streaming the data, smaller saves
    /// memory when spatial statistics keep B full maps.
    public var batchSize: Int = 96
    /// Cluster-forming threshold on the t scale (|t| > thr for two-sided); nil: no cluster null.
    /// Use `ClusterAnalysis.tThreshold(p:df:twoSided:)` to convert a p threshold like nilearn.
    public var clusterThreshold: Double? = nil
    /// Connectivity for cluster extent/mass (nilearn: faces; FSL randomise: vertices).
    public var clusterConnectivity: VoxelConnectivity = .faces
    /// TFCE variant for the TFCE null (nil: none). Always 6-connected, E = 0.5, H = 2.
    public var tfce: TFCEMethod? = nil
    /// Relative tolerance for ties when counting null ≥ observed: a null value v counts if
    /// v ≥ t·(1 − tieTolerance). Mathematically equal statistics (e.g. a relabeling and its
    /// mirror image) can differ by an ulp; this keeps exhaustive p-values exact. Default 1e-10.
    public var tieTolerance: Double = 1e-10

    /// Arithmetic of the batched product (see `PermutationPrecision`); default `.automatic`.
    public var precision: PermutationPrecision = .automatic

    public init() {}
}
