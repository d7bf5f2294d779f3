import Foundation

/// The standard normal distribution: CDF, survival function and their inverses.
///
/// `cdf` follows scipy's `ndtr` exactly in structure (erf near 0, erfc in the tails), so results
/// agree with scipy to a few ulp. `isf`/`ppf` start from Acklam's rational approximation
/// (relative error 1.15e-9) and apply Halley steps on `sf`, giving ~1e-15 relative accuracy for
/// p down to the smallest normal double (isf(1e-300) = 37.0471…).
public enum NormalDistribution {
    /// Φ(x). Edge cases: ±∞ → 1/0, NaN → NaN.
    public static func cdf(_ x: Double) -> Double {
        if x.isNaN { return .nan }
        let s = x * 0.7071067811865476
        let z = abs(s)
        if z < 0.7071067811865476 { return 0.5 + 0.5 * Foundation.erf(s) }
        let y = 0.5 * Foundation.erfc(z)
        return s > 0 ? 1 - y : y
    }

    /// 1 − Φ(x), accurate in the upper tail (sf(37) ≈ 5.7e-300; underflows to 0 beyond ≈ 38.5).
    public static func sf(_ x: Double) -> Double { cdf(-x) }

    /// The density φ(x) = exp(−x²/2)/√(2π).
    public static func pdf(_ x: Double) -> Double { Foundation.exp(-0.5 * x * x) * 0.3989422804014327 }

    /// The inverse survival function: x with sf(x) = p. p = 0 → +∞, p = 1 → −∞, outside [0, 1] → NaN.
    public static func isf(_ p: Double) -> Double {
        if p.isNaN || p < 0 || p > 1 { return .nan }
        if p == 0 { return .infinity }
        if p == 1 { return -.infinity }
        if p > 0.5 { return -isf(1 - p) }  // 1 − p is exact for p in [0.5, 1]
        if p == 0.5 { return 0 }
        var x = -acklamLower(p)
        // Halley on f(x) = sf(x) − p, f' = −φ, f'' = xφ:  x ← x + u/(1 − x u/2), u = f/φ.
        for _ in 0..<3 {
            let f = sf(x) - p
            let phi = pdf(x)
            if phi == 0 || f == 0 { break }
            let u = f / phi
            let step = u / (1 - 0.5 * x * u)
            x += step
            if abs(step) <= 1e-16 * abs(x) { break }
        }
        return x
    }

    /// The quantile function Φ⁻¹(q) = −isf(q).
    public static func ppf(_ q: Double) -> Double { -isf(q) }

    /// Acklam's approximation to Φ⁻¹(p) for 0 < p ≤ 0.5 (negative result).
    static func acklamLower(_ p: Double) -> Double {
        let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                 6.680131188771972e+01, -1.328068155288572e+01]
        let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                 -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                 3.754408661907416e+00]
        if p < 0.02425 {
            let q = (-2 * Foundation.log(p)).squareRoot()
            return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
                / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        let q = p - 0.5, r = q * q
        return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
            / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    }
}
