import Foundation
import XCTest
import TestSupport
@testable import Numerics

/// ROI follow-up statistics: paired t-test with Cohen's d_z, Pearson/Spearman tests and ROC AUC
/// with a DeLong CI and a permutation p — known answers, then scipy/sklearn on random data.
final class StatsROITests: XCTestCase {
    func testPairedDifferencesWithAKnownMean() throws {
        // post − pre = 0.3 + e, with e of mean exactly 0 and SD exactly 1: mean 0.3, d_z 0.3.
        var gauss = StatsGaussian(seed: 7)
        var e = gauss.array(40)
        let m = e.reduce(0, +) / 40
        e = e.map { $0 - m }
        let sd = (e.reduce(0) { $0 + $1 * $1 } / 39).squareRoot()
        e = e.map { $0 / sd }
        let pre = gauss.array(40)
        let post = zip(pre, e).map { $0 + 0.3 + $1 }
        let test = try PairedTTest(pre: pre, post: post)
        XCTAssertEqual(test.meanDifference, 0.3, accuracy: 1e-12)
        XCTAssertEqual(test.sdDifference, 1, accuracy: 1e-12)
        XCTAssertEqual(test.dz, 0.3, accuracy: 1e-12)
        XCTAssertEqual(test.t, 0.3 * 40.0.squareRoot(), accuracy: 1e-10)
        XCTAssertEqual(test.df, 39)
        // t = 1.897 with 39 df: two-sided p ≈ 0.0652 (scipy.stats.t.sf(1.8974, 39) * 2).
        XCTAssertEqual(test.p, 0.06520, accuracy: 5e-5)
        XCTAssertEqual(test.ci95.lower + test.ci95.upper, 0.6, accuracy: 1e-12)
        XCTAssertThrowsError(try PairedTTest(pre: [1, 2, 3], post: [2, 3, 4]))  // no variance
    }

    func testASeparablePredictorHasAUCOne() throws {
        let scores = [0.9, 0.8, 1.2, 0.7, 0.1, 0.3, 0.2, -0.4]
        let positive = [true, true, true, true, false, false, false, false]
        let roc = try ROCAnalysis(scores: scores, positive: positive, permutations: 2000, seed: 3)
        XCTAssertEqual(roc.auc, 1)
        XCTAssertEqual(roc.standardError, 0)
        XCTAssertEqual(roc.ci95.lower, 1)
        XCTAssertEqual(roc.ci95.upper, 1)
        // Exactly 1 of the C(8,4) = 70 labelings is as good: p ≈ 1/70, here (1 + #)/(B + 1).
        XCTAssertEqual(roc.permutationP, 1.0 / 70, accuracy: 0.008)
        // Reversed, the same scores are perfectly wrong.
        XCTAssertEqual(try ROCAnalysis(scores: scores.map { -$0 }, positive: positive, permutations: 0).auc, 0)
        // Ties count one half.
        XCTAssertEqual(try ROCAnalysis(scores: [1, 1], positive: [true, false], permutations: 0).auc, 0.5)
        XCTAssertThrowsError(try ROCAnalysis(scores: [1, 2], positive: [true, true]))
    }

    func testPermutationPIsSeededAndCalibrated() throws {
        var gauss = StatsGaussian(seed: 11)
        var rejections = 0
        for trial in 0..<200 {
            let roc = try ROCAnalysis(scores: gauss.array(20), positive: (0..<20).map { $0 < 8 }, permutations: 199, seed: UInt64(trial))
            if roc.permutationP <= 0.05 { rejections += 1 }
        }
        // One-sided 5% test on 200 null datasets: binomial 95% interval [4, 17].
        XCTAssertTrue((4...17).contains(rejections), "\(rejections) / 200 rejections")
        let a = try ROCAnalysis(scores: [0.1, 0.5, 0.2, 0.9, 0.4], positive: [true, false, true, false, true], permutations: 500, seed: 9)
        let b = try ROCAnalysis(scores: [0.1, 0.5, 0.2, 0.9, 0.4], positive: [true, false, true, false, true], permutations: 500, seed: 9)
        XCTAssertEqual(a.permutationP, b.permutationP)
    }

    func testAgainstScipyAndSklearn() throws {
        var gauss = StatsGaussian(seed: 21)
        for (trial, n) in [12, 31, 57].enumerated() {
            let dir = try statsTempDir()
            let pre = gauss.array(n)
            let labels = (0..<n).map { $0 % 3 != 0 }
            // Ties in the scores and the clinical column exercise the midranks.
            let preTied = pre.enumerated().map { i, v in labels[i] ? (v + 0.8).rounded() / 2 : v.rounded() / 2 }
            let post = preTied.map { $0 - 0.2 + 0.5 * gauss.next() }
            let clinical = zip(preTied, post).map { (($1 - $0) * 3 + gauss.next()).rounded() }
            for (name, values) in [("pre", preTied), ("post", post), ("clinical", clinical), ("labels", labels.map { $0 ? 1.0 : 0 })] {
                try writeFloat64(values, to: dir.appendingPathComponent("\(name).f64"))
            }
            try runStatsScript("stats_roi.py", [dir.path])
            let ref = try readFloat64(dir.appendingPathComponent("out.f64"))
            let change = zip(preTied, post).map { $1 - $0 }
            let paired = try PairedTTest(pre: preTied, post: post)
            let pearson = try CorrelationTest.pearson(change, clinical)
            let spearman = try CorrelationTest.spearman(change, clinical)
            let roc = try ROCAnalysis(scores: preTied, positive: labels, permutations: 0)
            let ours = [paired.t, paired.p, pearson.r, pearson.p, spearman.r, spearman.p, roc.auc, roc.standardError]
            let names = ["t", "p", "pearson r", "pearson p", "spearman rho", "spearman p", "AUC", "DeLong SE"]
            for k in 0..<8 {
                XCTAssertEqual(ours[k], ref[k], accuracy: 1e-10 * max(1, abs(ref[k])), "trial \(trial): \(names[k])")
            }
        }
    }
}
