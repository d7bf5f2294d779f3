import Foundation

/// Student's t distribution with ν degrees of freedom (ν > 0; ν = ∞ is the standard normal).
///
/// For t ≥ 0: sf(t) = ½ I_x(ν/2, ½), x = ν/(ν + t²), with x, 1 − x and their logs formed without
/// cancellation (ln x = −log1p(t²/ν)), so sf keeps full relative accuracy far into the tail
/// (sf(1e10; 5) ≈ 1.9e-51, sf(1e200; 1) ≈ 3.2e-201) and `logSF` stays finite where sf underflows.
public struct StudentTDistribution: Sendable, Equatable {
    /// Degrees of freedom ν.
    public let df: Double

    public init(df: Double) { self.df = df }

    /// ½ I_x(ν/2, ½) and ½ + ½ I_y(½, ν/2) for |t|, with logs.
    private func tails(_ t: Double) -> (small: Double, large: Double, logSmall: Double, logLarge: Double) {
        let r = abs(t) / df.squareRoot()
        let logX: Double, logY: Double, x: Double, y: Double
        if r > 1e150 {
            logX = -2 * Foundation.log(r); logY = 0; x = Foundation.exp(logX); y = 1
        } else {
            let r2 = r * r
            logX = -Foundation.log1p(r2)
            logY = r2 == 0 ? -.infinity : -Foundation.log1p(1 / r2)
            x = 1 / (1 + r2); y = r2 / (1 + r2)
        }
        let ib = SpecialFunctions.incompleteBeta(a: df / 2, b: 0.5, x: x, y: y, logX: logX, logY: logY)
        let small = 0.5 * ib.lower
        let large = 0.5 + 0.5 * ib.upper
        return (small, large, ib.logLower - M_LN2, Foundation.log1p(-small))
    }

    /// P(T > t). NaN → NaN, +∞ → 0, −∞ → 1, 0 → ½.
    public func sf(_ t: Double) -> Double {
        if t.isNaN || df.isNaN || df <= 0 { return .nan }
        if df.isInfinite { return NormalDistribution.sf(t) }
        if t.isInfinite { return t > 0 ? 0 : 1 }
        if t == 0 { return 0.5 }
        let tl = tails(t)
        return t > 0 ? tl.small : tl.large
    }

    /// P(T ≤ t) = sf(−t).
    public func cdf(_ t: Double) -> Double { sf(-t) }

    /// ln P(T > t), finite for finite t even where sf underflows to 0.
    public func logSF(_ t: Double) -> Double {
        if t.isNaN || df.isNaN || df <= 0 { return .nan }
        if df.isInfinite { return Foundation.log(NormalDistribution.sf(t)) }
        if t.isInfinite { return t > 0 ? -.infinity : 0 }
        if t == 0 { return -M_LN2 }
        let tl = tails(t)
        return t > 0 ? tl.logSmall : tl.logLarge
    }

    /// −log10 P(T > t) (one-sided), from `logSF` so it never overflows to ∞ for finite t.
    public func negLog10SF(_ t: Double) -> Double { -logSF(t) / M_LN10 }

    /// The inverse survival function: t with sf(t) = p (scipy `t.isf`). Bracketing + bisection
    /// to full precision; p ≤ 0 → +∞, p ≥ 1 → −∞.
    public func isf(_ p: Double) -> Double {
        if p.isNaN || df.isNaN { return .nan }
        if p <= 0 { return .infinity }
        if p >= 1 { return -.infinity }
        if p > 0.5 { return -isf(1 - p) }
        if p == 0.5 { return 0 }
        if df.isInfinite { return NormalDistribution.isf(p) }
        var lo = 0.0, hi = max(1.0, NormalDistribution.isf(p))
        while sf(hi) > p { lo = hi; hi *= 2; if hi.isInfinite { return hi } }
        for _ in 0..<200 {
            let mid = 0.5 * (lo + hi)
            if mid <= lo || mid >= hi { break }
            if sf(mid) > p { lo = mid } else { hi = mid }
        }
        return 0.5 * (lo + hi)
    }
}
