import Foundation
import XCTest
import TestSupport
@testable import Numerics

/// `PermutationTest.runF`, `FContrastPartition`, `ClusterAnalysis.fThreshold`.
final class StatsPermutationFTests: XCTestCase {
    private func write(_ dir: URL, _ name: String, _ values: [Double]) throws {
        try writeFloat64(values, to: dir.appendingPathComponent("\(name).f64"))
    }
    private func read(_ dir: URL, _ name: String) throws -> [Double] {
        try readFloat64(dir.appendingPathComponent("\(name).f64"))
    }

    /// n x 5 design: intercept, two group dummies (3 groups), age, motion.
    private func groupDesign(n: Int, g: inout StatsGaussian) -> Matrix {
        Matrix(columns: [
            [Double](repeating: 1, count: n),
            (0..<n).map { $0 % 3 == 1 ? 1.0 : 0.0 },
            (0..<n).map { $0 % 3 == 2 ? 1.0 : 0.0 },
            (0..<n).map { _ in 40 + 10 * g.next() },
            (0..<n).map { _ in abs(0.2 * g.next()) },
        ])
    }

    /// (b) The observed F equals GLMFit.fContrast to 1e-10 for group (q = 2), mixed (q = 3),
    /// single-row (q = 1) and full (q = p − 1 with a non-intercept nuisance) contrasts.
    func testFMapEqualsGLMFContrast() throws {
        for seed in UInt64(1)...3 {
            var g = StatsGaussian(seed: seed)
            let n = 31, v = 200
            let x = groupDesign(n: n, g: &g)
            var y = Matrix(rows: n, columns: v, data: g.array(n * v))
            for c in 0..<v { for i in 0..<n { y[i, c] += 0.4 * x[i, 1] * Double(c % 4) + 0.02 * x[i, 3] + 5 } }
            let fit = try GLMFit(design: x, data: y)
            let contrasts = [
                Matrix([[0, 1, 0, 0, 0], [0, 0, 1, 0, 0]]),
                Matrix([[0, 1, -1, 0, 0], [0, 0.5, 0.5, 0.1, 0], [0, 0, 0, 1, 2]]),
                Matrix([[0, 1, -1, 0, 0]]),
                Matrix([[0, 1, 0, 0, 0], [0, 0, 1, 0, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, 1]]),
            ]
            for c in contrasts {
                var options = PermutationOptions(); options.permutations = 0
                let r = try PermutationTest.runF(design: x, contrast: c, data: y, options: options)
                let ref = try fit.fContrast(c)
                let err = maxRelativeError(r.f, ref)
                XCTAssertLessThanOrEqual(err, 1e-10, "seed \(seed), q = \(c.rows)")
                XCTAssertEqual(r.dfNumerator, c.rows)
                XCTAssertEqual(r.dfDenominator, n - 5)
                XCTAssertFalse(r.signFlipping)
                // The tested block's coefficients are Cβ: regress one target on [T, Z].
                let part = try FContrastPartition(design: x, contrast: c)
                let parts = part.confounds.map { part.tested.appendingColumns($0) } ?? part.tested
                let gamma = try GLMFit(design: parts, data: y.columns(0..<1)).betas
                let cb = c * fit.betas.columns(0..<1)
                for j in 0..<c.rows { XCTAssertEqual(gamma[j, 0], cb[j, 0], accuracy: 1e-9 * max(1, abs(cb[j, 0]))) }
            }
        }
    }

    /// (a) q = 1 two-sample with covariates: F = t², max F = (max|t|)², same FWE and uncorrected
    /// p as the two-sided max-T test for the same seed (random relabelings, Float64 and Float32).
    func testSingleColumnFEqualsTSquaredPermutation() throws {
        var g = StatsGaussian(seed: 11)
        let n = 26, v = 300
        let tested = (0..<n).map { $0 < 13 ? 1.0 : 0.0 }
        let conf = Matrix(rows: n, columns: 2, data: g.array(n * 2))
        var y = Matrix(rows: n, columns: v, data: g.array(n * v))
        for c in 0..<v where c % 10 == 0 { for i in 0..<13 { y[i, c] += 1.8 } }
        for precision in [PermutationPrecision.double, .float] {
            var options = PermutationOptions(); options.permutations = 999; options.seed = 42; options.precision = precision
            let t = try PermutationTest.run(tested: tested, confounds: conf, data: y, options: options)
            let f = try PermutationTest.runF(tested: Matrix(columns: [tested]), confounds: conf, data: y, options: options)
            XCTAssertFalse(t.exhaustive); XCTAssertFalse(f.exhaustive)
            XCTAssertEqual(f.dfDenominator, t.df)
            XCTAssertLessThanOrEqual(maxRelativeError(f.f, t.t.map { $0 * $0 }), 1e-12)
            let tol = precision == .double ? 1e-12 : 1e-5
            XCTAssertLessThanOrEqual(maxRelativeError(f.nullMaxF, t.nullMaxT.map { $0 * $0 }), tol, "\(precision)")
            XCTAssertEqual(f.maxFFWEP, t.maxTFWEP, "\(precision)")
            XCTAssertEqual(f.uncorrectedP, t.uncorrectedP, "\(precision)")
            XCTAssertLessThan(f.maxFFWEP.min()!, 0.01)
        }
    }

    /// (a) q = 1 on a constant column (one-sample with a covariate, via the design/contrast API):
    /// sign flipping, exhaustive 2¹¹ flips, F = t² and identical exact p-values.
    func testSingleColumnFSignFlipEqualsTSquared() throws {
        var g = StatsGaussian(seed: 12)
        let n = 11, v = 60
        let x = Matrix(columns: [[Double](repeating: 1, count: n), (0..<n).map { _ in g.next() }])
        var y = Matrix(rows: n, columns: v, data: g.array(n * v))
        for c in 0..<v where c % 6 == 0 { for i in 0..<n { y[i, c] += 1.3 } }
        var options = PermutationOptions(); options.permutations = 5000
        let c = Matrix([[1, 0]])
        let f = try PermutationTest.runF(design: x, contrast: c, data: y, options: options)
        let part = try ContrastPartition(design: x, contrast: [1, 0])
        let t = try PermutationTest.run(tested: part.tested, confounds: part.confounds, data: y, options: part.options(from: options))
        XCTAssertTrue(f.signFlipping); XCTAssertTrue(f.exhaustive)
        XCTAssertEqual(f.nullCount, 2048)
        XCTAssertLessThanOrEqual(maxRelativeError(f.f, t.t.map { $0 * $0 }), 1e-12)
        XCTAssertLessThanOrEqual(maxRelativeError(f.f, try GLMFit(design: x, data: y).fContrast(c)), 1e-10)
        XCTAssertEqual(f.maxFFWEP, t.maxTFWEP)
        XCTAssertEqual(f.uncorrectedP, t.uncorrectedP)
        // Exact p-values are multiples of 1/2048.
        for p in f.maxFFWEP { XCTAssertEqual((p * 2048).rounded(), p * 2048) }
    }

    /// (c) 3 groups of 3, 3 and 4: all 10!/(3!·3!·4!) = 4200 relabelings; F, the max-F null and
    /// the FWE and uncorrected p-values (as counts over N) agree exactly with an independent
    /// numpy/scipy enumeration (Tests/CrossCheck/stats_permutation_f.py).
    func testExhaustiveThreeGroupFMatchesNumpyEnumeration() throws {
        var g = StatsGaussian(seed: 21)
        let labels = [0, 1, 2, 0, 1, 2, 0, 1, 2, 2]
        let n = labels.count, v = 30
        var y = Matrix(rows: n, columns: v, data: g.array(n * v))
        for c in 0..<v where c % 3 == 0 { for i in 0..<n where labels[i] == 2 { y[i, c] += 3 } }
        let dir = try statsTempDir()
        try write(dir, "shape", [Double(n), Double(v)])
        try write(dir, "labels", labels.map(Double.init)); try write(dir, "Y", y.data)
        try runStatsScript("stats_permutation_f.py", [dir.path])
        let x = Matrix(columns: [[Double](repeating: 1, count: n), labels.map { $0 == 1 ? 1.0 : 0.0 }, labels.map { $0 == 2 ? 1.0 : 0.0 }])
        var options = PermutationOptions(); options.permutations = 5000
        let r = try PermutationTest.runF(design: x, contrast: Matrix([[0, 1, 0], [0, 0, 1]]), data: y, options: options)
        let count = try read(dir, "count")[0]
        XCTAssertEqual(count, 4200)
        XCTAssertTrue(r.exhaustive)
        XCTAssertEqual(Double(r.nullCount), count)
        XCTAssertEqual(r.dfNumerator, 2); XCTAssertEqual(r.dfDenominator, 7)
        XCTAssertLessThanOrEqual(maxRelativeError(r.f, try read(dir, "f")), 1e-10)
        XCTAssertLessThanOrEqual(maxRelativeError(r.nullMaxF.sorted(), try read(dir, "null")), 1e-10)
        // Exact p-values: compare numerators over N as integers.
        XCTAssertEqual(r.maxFFWEP.map { ($0 * count).rounded() }, try read(dir, "fwe_count"))
        XCTAssertEqual(r.uncorrectedP.map { ($0 * count).rounded() }, try read(dir, "unc_count"))
        XCTAssertEqual(r.maxFFWEP.map { $0 * count }, r.maxFFWEP.map { ($0 * count).rounded() })
        XCTAssertLessThan(r.maxFFWEP.min()!, 0.05)
    }

    /// (d) Calibration: 300 null datasets (3 groups of 6, one covariate, 40 voxels, 199
    /// relabelings); the rate of datasets with min max-F FWE p ≤ 0.05 lies in the central 95%
    /// binomial interval of Binomial(300, 0.05) (P(p ≤ 0.05) = 10/200 exactly for 199 draws).
    func testMaxFFWENullCalibration() throws {
        let datasets = 300, n = 18, v = 40
        var g = StatsGaussian(seed: 99)
        var hits = 0
        for d in 0..<datasets {
            let x = Matrix(columns: [
                [Double](repeating: 1, count: n),
                (0..<n).map { $0 % 3 == 1 ? 1.0 : 0.0 },
                (0..<n).map { $0 % 3 == 2 ? 1.0 : 0.0 },
                (0..<n).map { _ in g.next() },
            ])
            var y = Matrix(rows: n, columns: v, data: g.array(n * v))
            for c in 0..<v { for i in 0..<n { y[i, c] += 0.8 * x[i, 3] } }  // nuisance effect only
            var options = PermutationOptions(); options.permutations = 199; options.seed = UInt64(d)
            let r = try PermutationTest.runF(design: x, contrast: Matrix([[0, 1, 0, 0], [0, 0, 1, 0]]), data: y, options: options)
            if r.maxFFWEP.min()! <= 0.05 { hits += 1 }
        }
        // Central 95% interval of Binomial(300, 0.05) from the exact cdf.
        func binomCDF(_ k: Int) -> Double {
            (0...k).reduce(0.0) { acc, j in
                let logC = lgamma(Double(datasets + 1)) - lgamma(Double(j + 1)) - lgamma(Double(datasets - j + 1))
                return acc + Foundation.exp(logC + Double(j) * Foundation.log(0.05) + Double(datasets - j) * Foundation.log(0.95))
            }
        }
        let lo = (0...datasets).first { binomCDF($0) >= 0.025 }!
        let hi = (0...datasets).first { binomCDF($0) >= 0.975 }!
        print("max-F FWE null rate: \(hits)/\(datasets), 95% interval [\(lo), \(hi)]")
        XCTAssertEqual(lo, 8); XCTAssertEqual(hi, 23)
        XCTAssertTrue((lo...hi).contains(hits), "\(hits) of \(datasets) null datasets rejected at 5%")
    }

    /// Cluster and TFCE nulls on the F scale. Exhaustive (3 x 3 groups, 1680 relabelings) so the
    /// identity is relabeling 0 (rows sorted by class): its null entries must equal the observed map's statistics. For
    /// q = 1 the cluster extent null at thr_F = thr_t² is the two-sided t cluster null, except that
    /// adjacent positive and negative supra-threshold voxels merge on the F scale (never smaller).
    func testClusterAndTFCENullsOnFScale() throws {
        let grid = MaskGrid(nx: 7, ny: 6, nz: 5)
        var g = StatsGaussian(seed: 31)
        let labels = [0, 0, 0, 1, 1, 1, 2, 2, 2]  // sorted: the identity is the first relabeling
        let n = labels.count, v = grid.count
        var y = Matrix(rows: n, columns: v, data: [Double](repeating: 0, count: n * v))
        for i in 0..<n {
            let m = smoothNoiseMap(nx: 7, ny: 6, nz: 5, passes: 2, gauss: &g)
            for c in 0..<v { y[i, c] = m[c] + (labels[i] == 2 && c < 60 ? 3 : 0) }
        }
        let x = Matrix(columns: [[Double](repeating: 1, count: n), labels.map { $0 == 1 ? 1.0 : 0.0 }, labels.map { $0 == 2 ? 1.0 : 0.0 }])
        var options = PermutationOptions(); options.permutations = 2000
        options.clusterThreshold = try ClusterAnalysis.fThreshold(p: 0.05, dfn: 2, dfd: 6)
        options.tfce = .exact
        let r = try PermutationTest.runF(design: x, contrast: Matrix([[0, 1, 0], [0, 0, 1]]), data: y, grid: grid, options: options)
        XCTAssertTrue(r.exhaustive); XCTAssertEqual(r.nullCount, 1680)
        let thr = options.clusterThreshold!
        XCTAssertEqual(FDistribution(dfn: 2, dfd: 6).sf(thr), 0.05, accuracy: 1e-13)
        let obs = ClusterAnalysis.label(map: r.f, graph: grid.neighborGraph(.faces), threshold: thr, twoSided: false)
        XCTAssertGreaterThan(obs.sizes.count, 0)
        XCTAssertEqual(r.nullMaxF[0], r.f.max()!, accuracy: 1e-12 * r.f.max()!)
        XCTAssertEqual(r.nullMaxClusterSize![0], Double(obs.sizes.max()!))
        XCTAssertEqual(r.nullMaxClusterMass![0], obs.masses.max()!, accuracy: 1e-9 * obs.masses.max()!)
        let tfceRef = TFCE.exact(map: r.f, graph: grid.neighborGraph(.faces), twoSided: false)
        XCTAssertLessThanOrEqual(maxRelativeError(r.tfce!, tfceRef), 1e-12)
        XCTAssertEqual(r.nullMaxTFCE![0], tfceRef.max()!, accuracy: 1e-9 * tfceRef.max()!)
        let tfceP = r.tfceFWEP!
        XCTAssertEqual(tfceP[tfceRef.firstIndex(of: tfceRef.max()!)!], r.fweP(tfceRef.max()!, null: r.nullMaxTFCE!))
        XCTAssertLessThan(tfceP.min()!, 0.05)

        // q = 1: F cluster extent null at thr_t² vs the two-sided t null at thr_t (same relabelings).
        let tested = labels.map { $0 == 2 ? 1.0 : 0.0 }
        var o1 = PermutationOptions(); o1.permutations = 300
        let tThr = try ClusterAnalysis.tThreshold(p: 0.05, df: Double(n - 2))
        o1.clusterThreshold = tThr
        let t = try PermutationTest.run(tested: tested, confounds: nil, data: y, grid: grid, options: o1)
        o1.clusterThreshold = try ClusterAnalysis.fThreshold(p: 0.05, dfn: 1, dfd: Double(n - 2))
        XCTAssertEqual(o1.clusterThreshold!, tThr * tThr, accuracy: 1e-10 * tThr * tThr)
        let f = try PermutationTest.runF(tested: Matrix(columns: [tested]), confounds: nil, data: y, grid: grid, options: o1)
        let pairs = Array(zip(f.nullMaxClusterSize!, t.nullMaxClusterSize!))
        XCTAssertTrue(pairs.allSatisfy { $0.0 >= $0.1 }, "an F cluster contains the |t| clusters")
        XCTAssertEqual(pairs.count, 84)  // C(9, 3) distinct relabelings: exhaustive
        XCTAssertGreaterThanOrEqual(pairs.filter { $0.0 == $0.1 }.count, 76, "opposite-sign neighbours above threshold are rare")
        XCTAssertEqual(f.maxFFWEP, t.maxTFWEP)
    }

    /// F.isf inverts sf (scipy f.isf values) and fThreshold rejects bad p.
    func testFThreshold() throws {
        // scipy.stats.f.isf(0.05, 3, 10).
        XCTAssertEqual(try ClusterAnalysis.fThreshold(p: 0.05, dfn: 3, dfd: 10), 3.7082648190468435, accuracy: 1e-10)
        for (p, d1, d2) in [(0.001, 2.0, 45.0), (0.01, 5.0, 7.0), (1e-8, 1.0, 30.0), (0.5, 4.0, 100.0)] {
            let f = try ClusterAnalysis.fThreshold(p: p, dfn: d1, dfd: d2)
            XCTAssertEqual(FDistribution(dfn: d1, dfd: d2).sf(f) / p, 1, accuracy: 1e-10)
        }
        XCTAssertThrowsError(try ClusterAnalysis.fThreshold(p: 0, dfn: 2, dfd: 10))
        XCTAssertThrowsError(try ClusterAnalysis.fThreshold(p: 0.05, dfn: 0, dfd: 10))
    }

    /// Typed errors: rank-deficient F contrast, a test of the mean under row permutation,
    /// a tested column in the span of the confounds.
    func testFErrors() throws {
        var g = StatsGaussian(seed: 41)
        let n = 12
        let y = Matrix(rows: n, columns: 5, data: g.array(n * 5))
        let dA = (0..<n).map { $0 < 6 ? 1.0 : 0.0 }, dB = dA.map { 1 - $0 }
        let age = (0..<n).map { _ in g.next() }
        let cellMeans = Matrix(columns: [dA, dB, age])
        func code(_ body: () throws -> Void) -> GLMError.Code? {
            do { try body(); return nil } catch let e as GLMError { return e.code } catch { return nil }
        }
        XCTAssertEqual(code { _ = try FContrastPartition(design: cellMeans, contrast: Matrix([[1, -1, 0], [2, -2, 0]])) }, .invalidContrast)
        XCTAssertEqual(code { _ = try FContrastPartition(design: cellMeans, contrast: Matrix([[1, 0], [0, 1]])) }, .shapeMismatch)
        // Both cell means = 0 involves the grand mean: not testable by row permutation.
        XCTAssertEqual(code { _ = try PermutationTest.runF(design: cellMeans, contrast: Matrix([[1, 0, 0], [0, 1, 0]]), data: y) }, .invalidContrast)
        // The group difference is testable (the mean stays in the nuisance).
        XCTAssertNoThrow(try PermutationTest.runF(design: cellMeans, contrast: Matrix([[1, -1, 0], [0, 0, 1]]), data: y))
        XCTAssertEqual(code { _ = try PermutationTest.runF(tested: Matrix(columns: [age, age.map { 2 * $0 + 1 }]), confounds: nil, data: y) }, .rankDeficientDesign)
    }
}
