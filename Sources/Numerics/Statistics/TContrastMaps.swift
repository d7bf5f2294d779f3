/// The per-target maps of a t contrast (see `GLMFit.tContrast`).
public struct TContrastMaps: Sendable, Equatable {
    /// cᵀβ per target.
    public var estimate: [Double]
    /// √(σ² cᵀ(XᵀX)⁻¹c) per target.
    public var standardError: [Double]
    /// estimate / standardError.
    public var t: [Double]
    /// Residual degrees of freedom.
    public var df: Int

    public init(estimate: [Double], standardError: [Double], t: [Double], df: Int) {
        self.estimate = estimate
        self.standardError = standardError
        self.t = t
        self.df = df
    }

    /// z maps exactly as nilearn (`ZScore.fromT`).
    public var z: [Double] { Parallel.map(t) { ZScore.fromT($0, df: Double(df)) } }

    /// Uncorrected one-sided −log10 p (P(T > t)).
    public var negLog10P: [Double] {
        let d = StudentTDistribution(df: Double(df))
        return Parallel.map(t) { d.negLog10SF($0) }
    }
}
