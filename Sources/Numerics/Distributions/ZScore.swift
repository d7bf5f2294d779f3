import Foundation

/// Conversions to z scores exactly as nilearn does (`nilearn.glm._utils.z_score`).
///
/// nilearn clips p and 1 − p to [1e-300, 1 − 1e-16], takes z_sf = norm.isf(p), and where z_sf < 0
/// uses z_cdf = norm.ppf(1 − p) instead (1 − p computed from the CDF, not by subtraction). Hence z
/// saturates at ±37.0471 (= isf(1e-300)) for huge |t| instead of overflowing, and is accurate for
/// negative t. pipe follows this exactly, including the saturation.
public enum ZScore {
    /// The lower clip of nilearn's z_score.
    public static let minimumP = 1.0e-300
    /// The upper clip of nilearn's z_score (1 − 1e-16 rounds to 1 − 2⁻⁵³).
    public static let maximumP = 1.0 - 1.0e-16

    /// nilearn `z_score(pvalue, one_minus_pvalue)`.
    public static func fromP(_ p: Double, oneMinusP: Double? = nil) -> Double {
        let pc = min(max(p, minimumP), maximumP)
        let zSF = NormalDistribution.isf(pc)
        guard let q = oneMinusP else { return zSF }
        if zSF < 0 {
            let qc = min(max(q, minimumP), maximumP)
            return NormalDistribution.ppf(qc)
        }
        return zSF
    }

    /// z for a t value: `z_score(t.sf(t, df), t.cdf(t, df))`, as nilearn's contrast z maps.
    /// NaN t → NaN.
    public static func fromT(_ t: Double, df: Double) -> Double {
        if t.isNaN { return .nan }
        let dist = StudentTDistribution(df: df)
        return fromP(dist.sf(t), oneMinusP: dist.cdf(t))
    }

    /// z for an F value with (dfn, dfd): `z_score(f.sf, f.cdf)`.
    public static func fromF(_ f: Double, dfn: Double, dfd: Double) -> Double {
        if f.isNaN { return .nan }
        let dist = FDistribution(dfn: dfn, dfd: dfd)
        return fromP(dist.sf(f), oneMinusP: dist.cdf(f))
    }
}
