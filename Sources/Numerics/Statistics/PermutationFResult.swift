/// The outputs of `PermutationTest.runF` (permutation F test of a q-column tested block).
///
/// p-values follow `PermutationResult`: (1 + #{null ≥ observed}) / (N + 1) for random
/// relabelings; #{null ≥ observed} / N, exact, when all N distinct relabelings were enumerated
/// (identity included once). F is non-directional, so every statistic is one-sided on the F scale.
public struct PermutationFResult: Sendable {
    /// Observed F per target: the GLM F of the tested block given the nuisance regressors
    /// (equal to `GLMFit.fContrast` of the contrast the block came from). NaN for invalid
    /// (zero-variance) targets; +∞ for an exact fit with a non-zero effect.
    public var f: [Double]
    /// Numerator degrees of freedom q (columns of the tested block).
    public var dfNumerator: Int
    /// Denominator degrees of freedom n − q − (nuisance columns, intercept included).
    public var dfDenominator: Int
    /// True when q = 1, the tested column is constant and signs were flipped (F = t²).
    public var signFlipping: Bool
    /// True when all distinct relabelings were enumerated.
    public var exhaustive: Bool
    /// Number of null relabelings (random: the requested count; exhaustive: N, identity included).
    public var nullCount: Int
    /// Uncorrected permutation p per target.
    public var uncorrectedP: [Double]
    /// Max-F family-wise p per target.
    public var maxFFWEP: [Double]
    /// Null distribution of the max F over targets, in relabeling order.
    public var nullMaxF: [Double]
    /// Null of the largest cluster extent (voxels) at F > threshold, when a threshold was given.
    public var nullMaxClusterSize: [Double]?
    /// Null of the largest cluster mass Σ(F − threshold), when a threshold was given.
    public var nullMaxClusterMass: [Double]?
    /// Observed TFCE of the F map (one-sided, on the F scale), when TFCE was requested.
    public var tfce: [Double]?
    /// Null of max TFCE over targets.
    public var nullMaxTFCE: [Double]?
    /// TFCE family-wise p per target.
    public var tfceFWEP: [Double]?

    /// FWE p of a statistic value against a null: exhaustive → #{null ≥ v}/N, else (1+#)/(N+1);
    /// e.g. an observed cluster's extent against `nullMaxClusterSize`.
    public func fweP(_ value: Double, null: [Double], tieTolerance: Double = 1e-10) -> Double {
        let cut = value - abs(value) * tieTolerance
        return PermutationTest.permutationP(count: null.reduce(0) { $0 + ($1 >= cut ? 1 : 0) }, nullCount: null.count, exhaustive: exhaustive)
    }
}
