import Foundation

/// A paired t-test of `post − pre` (scipy.stats.ttest_rel) with Cohen's d_z.
public struct PairedTTest: Sendable {
    public let n: Int
    /// Mean and sample SD (n − 1) of the differences post − pre.
    public let meanDifference: Double
    public let sdDifference: Double
    public let t: Double
    public let df: Int
    /// Two-sided p.
    public let p: Double
    /// Cohen's d_z = mean / SD of the differences.
    public let dz: Double
    /// 95% confidence interval of the mean difference.
    public let ci95: (lower: Double, upper: Double)

    /// - Throws: `GLMError` for unequal lengths, fewer than 2 pairs, non-finite values or
    ///   differences with no variance.
    public init(pre: [Double], post: [Double]) throws {
        guard pre.count == post.count else { throw GLMError(.shapeMismatch, "\(pre.count) pre values for \(post.count) post values") }
        guard pre.count >= 2 else { throw GLMError(.noResidualDegreesOfFreedom, "a paired test needs 2 pairs, got \(pre.count)") }
        let d = zip(post, pre).map { $0 - $1 }
        guard d.allSatisfy(\.isFinite) else { throw GLMError(.invalidOption, "non-finite values") }
        n = d.count
        df = n - 1
        meanDifference = d.reduce(0, +) / Double(n)
        let m = meanDifference
        sdDifference = (d.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(df)).squareRoot()
        guard sdDifference > 0 else { throw GLMError(.rankDeficientDesign, "the differences have no variance") }
        let se = sdDifference / Double(n).squareRoot()
        t = m / se
        let distribution = StudentTDistribution(df: Double(df))
        p = min(1, 2 * distribution.sf(abs(t)))
        dz = m / sdDifference
        let q = distribution.isf(0.025)
        ci95 = (m - q * se, m + q * se)
    }
}
