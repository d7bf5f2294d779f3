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

/// Receiver operating characteristic analysis of a score predicting a binary class, with the
/// positive class expected to score higher.
///
/// - AUC: the Mann–Whitney probability P(score₊ > score₋) + ½ P(tie) (sklearn `roc_auc_score`).
/// - 95% CI: DeLong et al. (1988) variance, AUC ± 1.96 SE clipped to [0, 1] (pROC's default).
/// - Permutation p: one-sided, p = (1 + #{AUC_perm ≥ AUC}) / (B + 1), class labels shuffled with
///   a seeded xoshiro256**; equal seeds give equal p on every platform.
public struct ROCAnalysis: Sendable {
    public let positives: Int
    public let negatives: Int
    public let auc: Double
    public let standardError: Double
    public let ci95: (lower: Double, upper: Double)
    public let permutations: Int
    public let permutationP: Double

    /// - Throws: `GLMError` when a class is empty or a score is not finite.
    public init(scores: [Double], positive: [Bool], permutations: Int = 5000, seed: UInt64 = 0) throws {
        guard scores.count == positive.count else { throw GLMError(.shapeMismatch, "\(scores.count) scores for \(positive.count) labels") }
        guard scores.allSatisfy(\.isFinite) else { throw GLMError(.invalidOption, "non-finite scores") }
        let pos = scores.indices.filter { positive[$0] }, neg = scores.indices.filter { !positive[$0] }
        guard !pos.isEmpty, !neg.isEmpty else {
            throw GLMError(.invalidOption, "an ROC needs both classes; got \(pos.count) positive and \(neg.count) negative")
        }
        positives = pos.count
        negatives = neg.count
        let m = Double(pos.count), n = Double(neg.count)
        func kernel(_ a: Double, _ b: Double) -> Double { a > b ? 1 : a == b ? 0.5 : 0 }
        // DeLong structural components.
        let v10 = pos.map { i in neg.reduce(0) { $0 + kernel(scores[i], scores[$1]) } / n }
        let v01 = neg.map { j in pos.reduce(0) { $0 + kernel(scores[$1], scores[j]) } / m }
        auc = v10.reduce(0, +) / m
        func variance(_ v: [Double]) -> Double {
            guard v.count > 1 else { return 0 }
            let mean = v.reduce(0, +) / Double(v.count)
            return v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(v.count - 1)
        }
        standardError = (variance(v10) / m + variance(v01) / n).squareRoot()
        let z = NormalDistribution.isf(0.025)
        ci95 = (max(0, auc - z * standardError), min(1, auc + z * standardError))
        // Permutations on the ranks: AUC = (Σ ranks of positives − m(m+1)/2) / (m n).
        let ranks = averageRanks(scores)
        let offset = m * (m + 1) / 2
        let observed = pos.reduce(0) { $0 + ranks[$1] }
        var rng = Xoshiro256StarStar(seed: seed)
        var labels = positive
        var exceed = 0
        for _ in 0..<permutations {
            for i in stride(from: labels.count - 1, to: 0, by: -1) {
                labels.swapAt(i, Int.random(in: 0...i, using: &rng))
            }
            var sum = 0.0
            for i in labels.indices where labels[i] { sum += ranks[i] }
            if (sum - offset) >= (observed - offset) * (1 - 1e-12) { exceed += 1 }
        }
        self.permutations = permutations
        permutationP = Double(exceed + 1) / Double(permutations + 1)
    }
}
