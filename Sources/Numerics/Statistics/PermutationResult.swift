/// The outputs of `PermutationTest.run`.
///
/// p-values follow nilearn: p = (1 + #{null ≥ observed}) / (n_perm + 1) for random relabelings.
/// For exhaustive enumeration the null contains every distinct relabeling *including* the identity
/// and p = #{null ≥ observed} / N, exact (the identity is counted once).
public struct PermutationResult: Sendable {
    /// Observed t per target (the standard OLS t of the tested variable given the confounds).
    public var t: [Double]
    /// Residual degrees of freedom n − 1 − (number of confound columns, intercept included).
    public var df: Int
    /// True when the tested variable is the intercept and targets were sign-flipped.
    public var signFlipping: Bool
    /// True when all distinct relabelings were enumerated.
    public var exhaustive: Bool
    /// Number of null relabelings (random: the requested count; exhaustive: N, identity included).
    public var nullCount: Int
    /// Uncorrected permutation p per target.
    public var uncorrectedP: [Double]
    /// Max-T family-wise p per target.
    public var maxTFWEP: [Double]
    /// Null distribution of max (|t| if two-sided) over targets, in relabeling order.
    public var nullMaxT: [Double]
    /// Null of the largest cluster extent (voxels), when a cluster threshold was given.
    public var nullMaxClusterSize: [Double]?
    /// Null of the largest cluster mass Σ(|t| − thr), when a cluster threshold was given.
    public var nullMaxClusterMass: [Double]?
    /// Observed TFCE map (signed), when TFCE was requested.
    public var tfce: [Double]?
    /// Null of max |TFCE| (or max TFCE, one-sided).
    public var nullMaxTFCE: [Double]?
    /// TFCE family-wise p per target.
    public var tfceFWEP: [Double]?

    /// FWE p of a statistic value against a null: exhaustive → #{null ≥ v}/N, else (1+#)/(N+1).
    public func fweP(_ value: Double, null: [Double], tieTolerance: Double = 1e-10) -> Double {
        let cut = value - abs(value) * tieTolerance
        return PermutationTest.permutationP(count: null.reduce(0) { $0 + ($1 >= cut ? 1 : 0) }, nullCount: null.count, exhaustive: exhaustive)
    }
}
