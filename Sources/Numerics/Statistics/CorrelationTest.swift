import Foundation

/// Pearson and Spearman correlation tests (scipy.stats.pearsonr / spearmanr, two-sided).
public struct CorrelationTest: Sendable {
    public let n: Int
    public let r: Double
    /// Two-sided p from t = r √((n − 2)/(1 − r²)) with n − 2 df (exact for Pearson under
    /// normality; scipy's spearmanr uses the same approximation).
    public let p: Double

    init(r: Double, n: Int) {
        self.n = n
        self.r = r
        let t = r * (Double(n - 2) / max(1e-300, (1 - r) * (1 + r))).squareRoot()
        p = abs(r) >= 1 ? 0 : min(1, 2 * StudentTDistribution(df: Double(n - 2)).sf(abs(t)))
    }

    /// - Throws: `GLMError` for unequal lengths, fewer than 3 pairs, non-finite values or a
    ///   constant variable.
    public static func pearson(_ x: [Double], _ y: [Double]) throws -> CorrelationTest {
        guard x.count == y.count else { throw GLMError(.shapeMismatch, "\(x.count) x values for \(y.count) y values") }
        guard x.count >= 3 else { throw GLMError(.noResidualDegreesOfFreedom, "a correlation test needs 3 pairs, got \(x.count)") }
        guard (x + y).allSatisfy(\.isFinite) else { throw GLMError(.invalidOption, "non-finite values") }
        let mx = x.reduce(0, +) / Double(x.count), my = y.reduce(0, +) / Double(y.count)
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for (a, b) in zip(x, y) { sxy += (a - mx) * (b - my); sxx += (a - mx) * (a - mx); syy += (b - my) * (b - my) }
        guard sxx > 0, syy > 0 else { throw GLMError(.rankDeficientDesign, "a variable is constant") }
        return CorrelationTest(r: max(-1, min(1, sxy / (sxx * syy).squareRoot())), n: x.count)
    }

    /// Pearson correlation of the ranks (ties get their average rank).
    public static func spearman(_ x: [Double], _ y: [Double]) throws -> CorrelationTest {
        guard (x + y).allSatisfy(\.isFinite) else { throw GLMError(.invalidOption, "non-finite values") }
        return try pearson(averageRanks(x), averageRanks(y))
    }
}

/// Ranks 1…n, ties sharing their average rank (scipy.stats.rankdata "average").
public func averageRanks(_ values: [Double]) -> [Double] {
    let order = values.indices.sorted { values[$0] < values[$1] || (values[$0] == values[$1] && $0 < $1) }
    var ranks = [Double](repeating: 0, count: values.count)
    var start = 0
    while start < order.count {
        var end = start
        while end + 1 < order.count && values[order[end + 1]] == values[order[start]] { end += 1 }
        let rank = Double(start + end) / 2 + 1
        for k in start...end { ranks[order[k]] = rank }
        start = end + 1
    }
    return ranks
}
