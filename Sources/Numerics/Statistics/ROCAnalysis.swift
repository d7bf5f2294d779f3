import Foundation

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
