import Foundation

/// The F distribution with (d1, d2) degrees of freedom.
///
/// sf(f) = I_x(d2/2, d1/2) with x = d2/(d2 + d1 f); x, 1 − x and their logs are formed without
/// cancellation, so sf keeps relative accuracy in the far upper tail.
public struct FDistribution: Sendable, Equatable {
    public let dfn: Double
    public let dfd: Double

    public init(dfn: Double, dfd: Double) { self.dfn = dfn; self.dfd = dfd }

    private func beta(_ f: Double) -> (lower: Double, upper: Double, logLower: Double, logUpper: Double) {
        let r = dfn * f / dfd  // x = 1/(1 + r), y = r/(1 + r)
        let logX: Double, logY: Double, x: Double, y: Double
        if r > 1e300 {
            logX = -Foundation.log(r); logY = 0; x = Foundation.exp(logX); y = 1
        } else {
            logX = -Foundation.log1p(r); logY = -Foundation.log1p(1 / r)
            x = 1 / (1 + r); y = r / (1 + r)
        }
        return SpecialFunctions.incompleteBeta(a: dfd / 2, b: dfn / 2, x: x, y: y, logX: logX, logY: logY)
    }

    /// P(F > f). f ≤ 0 → 1, +∞ → 0, NaN → NaN.
    public func sf(_ f: Double) -> Double {
        if f.isNaN || dfn.isNaN || dfd.isNaN { return .nan }
        if f <= 0 { return 1 }
        if f.isInfinite { return 0 }
        return beta(f).lower
    }

    /// P(F ≤ f).
    public func cdf(_ f: Double) -> Double {
        if f.isNaN { return .nan }
        if f <= 0 { return 0 }
        if f.isInfinite { return 1 }
        return beta(f).upper
    }

    /// ln P(F > f), finite where sf underflows.
    public func logSF(_ f: Double) -> Double {
        if f.isNaN { return .nan }
        if f <= 0 { return 0 }
        if f.isInfinite { return -.infinity }
        return beta(f).logLower
    }

    /// The inverse survival function: f with sf(f) = p (scipy `f.isf`). Bracketing + bisection on
    /// the monotone sf to full precision (≤ 200 halvings); p ≤ 0 → +∞, p ≥ 1 → 0.
    public func isf(_ p: Double) -> Double {
        if p.isNaN || dfn.isNaN || dfd.isNaN { return .nan }
        if p <= 0 { return .infinity }
        if p >= 1 { return 0 }
        var lo = 0.0, hi = 1.0
        while sf(hi) > p { lo = hi; hi *= 2; if hi.isInfinite { return hi } }
        for _ in 0..<200 {
            let mid = 0.5 * (lo + hi)
            if mid <= lo || mid >= hi { break }
            if sf(mid) > p { lo = mid } else { hi = mid }
        }
        return 0.5 * (lo + hi)
    }
}
