import Foundation

/// Benjamini–Hochberg false discovery rate control.
///
/// Two flavours, because the references differ in detail:
/// - `qValues` / `pThreshold`: statsmodels `fdrcorrection(method="indep")` — q_(i) =
///   min_{j ≥ i} p_(j)·m/j clipped to 1; reject p_(i) ≤ α i/m (non-strict) up to the largest such i.
/// - `nilearnZThreshold`: nilearn `fdr_threshold(z, alpha)` as used by `threshold_stats_img`:
///   z sorted descending, p = norm.sf(z), the last z with p < α·linspace(1/m, 1, m) (strict), minus
///   1e-12; +∞ when nothing survives.
/// NaN p-values are not allowed (filter them first); m = count of the inputs.
public enum BenjaminiHochberg {
    /// BH-adjusted p-values (q-values) in the input order.
    public static func qValues(_ p: [Double]) -> [Double] {
        let m = p.count
        guard m > 0 else { return [] }
        let order = (0..<m).sorted { p[$0] < p[$1] }
        var q = [Double](repeating: 0, count: m)
        var running = Double.infinity
        for rank in stride(from: m - 1, through: 0, by: -1) {
            let i = order[rank]
            running = min(running, p[i] * Double(m) / Double(rank + 1))
            q[i] = min(running, 1)
        }
        return q
    }

    /// The BH p threshold: the largest p_(i) with p_(i) ≤ α·i/m, or nil when none is rejected.
    /// Reject every p ≤ the threshold.
    public static func pThreshold(_ p: [Double], alpha: Double) -> Double? {
        let s = p.sorted(), m = Double(p.count)
        var best: Double? = nil
        for (i, v) in s.enumerated() where v <= alpha * Double(i + 1) / m { best = v }
        return best
    }

    /// nilearn `fdr_threshold(z_vals, alpha)`: a z threshold (+∞ if nothing survives).
    /// - Throws: `GLMError.Code.invalidOption` for α outside [0, 1].
    public static func nilearnZThreshold(_ z: [Double], alpha: Double) throws -> Double {
        guard alpha >= 0, alpha <= 1 else { throw GLMError(.invalidOption, "alpha should be between 0 and 1, got \(alpha)") }
        let m = z.count
        guard m > 0 else { return .infinity }
        let zs = z.sorted(by: >)
        let step = m > 1 ? (1 - 1 / Double(m)) / Double(m - 1) : 0
        var last: Double? = nil
        for i in 0..<m {
            let lin = i == m - 1 ? 1.0 : Double(i) * step + 1 / Double(m)
            if NormalDistribution.sf(zs[i]) < alpha * lin { last = zs[i] }
        }
        return last.map { $0 - 1e-12 } ?? .infinity
    }
}
