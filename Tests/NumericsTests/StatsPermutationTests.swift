import Foundation
import XCTest
import TestSupport
import Numerics

final class StatsPermutationTests: XCTestCase {
    private func write(_ dir: URL, _ name: String, _ values: [Double]) throws {
        try writeFloat64(values, to: dir.appendingPathComponent("\(name).f64"))
    }
    private func read(_ dir: URL, _ name: String) throws -> [Double] {
        try readFloat64(dir.appendingPathComponent("\(name).f64"))
    }

    /// t map equals nilearn permuted_ols (n_perm=0) with covariates and an added intercept.
    func testTMapMatchesNilearn() throws {
        var g = StatsGaussian(seed: 3)
        let n = 19, v = 300, k = 2
        let tested = (0..<n).map { _ in g.next() }
        let conf = Matrix(rows: n, columns: k, data: g.array(n * k))
        var y = Matrix(rows: n, columns: v, data: g.array(n * v))
        for c in 0..<v { for i in 0..<n { y[i, c] += 0.5 * tested[i] * Double(c % 3) + conf[i, 0] } }
        let dir = try statsTempDir()
        try write(dir, "shape", [Double(n), Double(v), Double(k)])
        try write(dir, "tested", tested); try write(dir, "Y", y.data); try write(dir, "conf", conf.data)
        try runStatsScript("stats_permutation.py", ["tmap", dir.path])
        var options = PermutationOptions(); options.permutations = 0
        let result = try PermutationTest.run(tested: tested, confounds: conf, data: y, options: options)
        let err = maxRelativeError(result.t, try read(dir, "t"))
        print("permuted_ols t map max rel err", err)
        XCTAssertLessThanOrEqual(err, 1e-10)
        XCTAssertEqual(result.df, n - 1 - 3)
        // Same t as the general GLM.
        let design = Matrix(columns: [tested, [Double](repeating: 1, count: n), conf.column(0), conf.column(1)])
        let glmT = try GLMFit(design: design, data: y).tContrast([1, 0, 0, 0]).t
        XCTAssertLessThanOrEqual(maxRelativeError(result.t, glmT), 1e-10)
    }

    /// 8 vs 8: all 12870 relabelings; FWE p equals an independent exhaustive reference exactly.
    func testExhaustiveTwoSampleMatchesReference() throws {
        var g = StatsGaussian(seed: 5)
        let n = 16, v = 40
        let tested = (0..<n).map { $0 < 8 ? 1.0 : 0.0 }
        var y = Matrix(rows: n, columns: v, data: g.array(n * v))
        for c in 0..<v where c % 4 == 0 { for i in 0..<8 { y[i, c] += 1.2 } }
        let dir = try statsTempDir()
        try write(dir, "shape", [Double(n), Double(v), 8]); try write(dir, "Y", y.data)
        try runStatsScript("stats_permutation.py", ["twosample", dir.path])
        var options = PermutationOptions(); options.permutations = 20000
        let r = try PermutationTest.run(tested: tested, confounds: nil, data: y, options: options)
        XCTAssertTrue(r.exhaustive)
        XCTAssertEqual(r.nullCount, 12870)
        XCTAssertLessThanOrEqual(maxRelativeError(r.t, try read(dir, "t")), 1e-10)
        XCTAssertLessThanOrEqual(maxRelativeError(r.nullMaxT.sorted(), try read(dir, "null")), 1e-10)
        XCTAssertEqual(r.maxTFWEP, try read(dir, "p"), "exhaustive max-T FWE p must agree exactly")
        XCTAssertLessThan(r.maxTFWEP.min()!, 0.05)
    }

    /// One-sample n = 10: all 1024 sign flips; exact agreement.
    func testExhaustiveSignFlipMatchesReference() throws {
        var g = StatsGaussian(seed: 6)
        let n = 10, v = 50
        var y = Matrix(rows: n, columns: v, data: g.array(n * v))
        for c in 0..<v where c % 5 == 0 { for i in 0..<n { y[i, c] += 1.0 } }
        let dir = try statsTempDir()
        try write(dir, "shape", [Double(n), Double(v)]); try write(dir, "Y", y.data)
        try runStatsScript("stats_permutation.py", ["signflip", dir.path])
        var options = PermutationOptions(); options.permutations = 5000
        let r = try PermutationTest.run(tested: [Double](repeating: 1, count: n), confounds: nil, data: y, options: options)
        XCTAssertTrue(r.signFlipping); XCTAssertTrue(r.exhaustive)
        XCTAssertEqual(r.nullCount, 1024)
        XCTAssertLessThanOrEqual(maxRelativeError(r.t, try read(dir, "t")), 1e-10)
        XCTAssertEqual(r.maxTFWEP, try read(dir, "p"))
    }

    /// One-sided (max t, positive effects) exhaustive sign flips agree exactly too.
    func testExhaustiveOneSidedSignFlipMatchesReference() throws {
        var g = StatsGaussian(seed: 16)
        let n = 9, v = 40
        var y = Matrix(rows: n, columns: v, data: g.array(n * v))
        for c in 0..<v where c % 4 == 0 { for i in 0..<n { y[i, c] += c % 8 == 0 ? 1.0 : -1.0 } }
        let dir = try statsTempDir()
        try write(dir, "shape", [Double(n), Double(v)]); try write(dir, "Y", y.data)
        try runStatsScript("stats_permutation.py", ["signflip_onesided", dir.path])
        var options = PermutationOptions(); options.permutations = 5000; options.twoSided = false
        let r = try PermutationTest.run(tested: [Double](repeating: 1, count: n), confounds: nil, data: y, options: options)
        XCTAssertTrue(r.exhaustive); XCTAssertEqual(r.nullCount, 512)
        XCTAssertLessThanOrEqual(maxRelativeError(r.nullMaxT.sorted(), try read(dir, "null")), 1e-10)
        XCTAssertEqual(r.maxTFWEP, try read(dir, "p"))
        XCTAssertEqual(r.maxTFWEP[4], 1.0, "a strong negative effect is not significant one-sided")
    }

    /// n = 7 with a covariate: all 5040 row permutations = exhaustive Freedman–Lane.
    func testExhaustiveFreedmanLaneMatchesReference() throws {
        var g = StatsGaussian(seed: 8)
        let n = 7, v = 30
        let tested = g.array(n), cov = g.array(n)
        var y = Matrix(rows: n, columns: v, data: g.array(n * v))
        for c in 0..<v { for i in 0..<n { y[i, c] += 0.8 * cov[i] + (c % 3 == 0 ? 1.5 * tested[i] : 0) } }
        let dir = try statsTempDir()
        try write(dir, "shape", [Double(n), Double(v), 1]); try write(dir, "Y", y.data)
        try write(dir, "tested", tested); try write(dir, "conf", cov)
        try runStatsScript("stats_permutation.py", ["fl", dir.path])
        var options = PermutationOptions(); options.permutations = 6000
        let r = try PermutationTest.run(tested: tested, confounds: Matrix(columns: [cov]), data: y, options: options)
        XCTAssertTrue(r.exhaustive); XCTAssertEqual(r.nullCount, 5040)
        XCTAssertLessThanOrEqual(maxRelativeError(r.t, try read(dir, "t")), 1e-10)
        XCTAssertLessThanOrEqual(maxRelativeError(r.nullMaxT.sorted(), try read(dir, "null")), 1e-9)
        XCTAssertEqual(r.maxTFWEP, try read(dir, "p"))
    }

    func testSeededRunsAreDeterministicAndPValuesConsistent() throws {
        var g = StatsGaussian(seed: 9)
        let n = 20, v = 130
        let tested = (0..<n).map { $0 < 10 ? 1.0 : 0.0 }
        let y = Matrix(rows: n, columns: v, data: g.array(n * v))
        var options = PermutationOptions(); options.permutations = 500; options.seed = 42
        let a = try PermutationTest.run(tested: tested, confounds: nil, data: y, options: options)
        let b = try PermutationTest.run(tested: tested, confounds: nil, data: y, options: options)
        XCTAssertFalse(a.exhaustive)
        XCTAssertEqual(a.nullMaxT, b.nullMaxT)
        XCTAssertEqual(a.maxTFWEP, b.maxTFWEP)
        for c in 0..<v {
            XCTAssertGreaterThanOrEqual(a.maxTFWEP[c], a.uncorrectedP[c])
            XCTAssertGreaterThanOrEqual(a.uncorrectedP[c], 1.0 / 501)
            // FWE p from the formula (1 + #{null ≥ |t|}) / (N + 1).
            let count = a.nullMaxT.filter { $0 >= abs(a.t[c]) * (1 - 1e-10) }.count
            XCTAssertEqual(a.maxTFWEP[c], Double(count + 1) / 501)
        }
        options.seed = 43
        let c = try PermutationTest.run(tested: tested, confounds: nil, data: y, options: options)
        XCTAssertNotEqual(a.nullMaxT, c.nullMaxT)
    }

    func testRankDeficientConfoundsThrow() {
        let n = 10
        let cov = (0..<n).map { Double($0) }
        let conf = Matrix(columns: [cov, cov.map { 2 * $0 }])
        XCTAssertThrowsError(try PermutationTest.run(tested: (0..<n).map { Double($0 % 2) }, confounds: conf, data: Matrix(rows: n, columns: 3, repeating: 1))) {
            XCTAssertEqual(($0 as? GLMError)?.code, .rankDeficientDesign)
        }
    }
}

final class StatsPermutationSpatialTests: XCTestCase {
    /// Exhaustive sign flips (n = 8, 256 relabelings) on a 6x5x4 grid: the null distributions of
    /// max cluster size, max cluster mass and max |TFCE| (nilearn stepped) equal a Python reference
    /// relabeling by relabeling.
    func testExhaustiveSpatialNullsMatchReference() throws {
        var g = StatsGaussian(seed: 31)
        let n = 8, (nx, ny, nz) = (6, 5, 4), v = nx * ny * nz
        var rows: [Double] = []
        for _ in 0..<n { rows += smoothNoiseMap(nx: nx, ny: ny, nz: nz, passes: 1, gauss: &g).map { $0 + 0.4 } }
        let y = Matrix(rows: n, columns: v, data: rows)
        let grid = MaskGrid(nx: nx, ny: ny, nz: nz)
        let thr = 2.0
        let dir = try statsTempDir()
        try writeFloat64([Double(n), Double(nx), Double(ny), Double(nz), thr], to: dir.appendingPathComponent("shape.f64"))
        try writeFloat64(y.data, to: dir.appendingPathComponent("Y.f64"))
        try runStatsScript("stats_permutation.py", ["signflip_spatial", dir.path])
        var options = PermutationOptions()
        options.permutations = 1000
        options.clusterThreshold = thr
        options.tfce = .nilearnStepped
        let r = try PermutationTest.run(tested: [Double](repeating: 1, count: n), confounds: nil, data: y, grid: grid, options: options)
        XCTAssertTrue(r.exhaustive); XCTAssertEqual(r.nullCount, 256)
        XCTAssertEqual(r.nullMaxClusterSize!, try readFloat64(dir.appendingPathComponent("size.f64")))
        XCTAssertLessThanOrEqual(maxRelativeError(r.nullMaxClusterMass!, try readFloat64(dir.appendingPathComponent("mass.f64")), floor: 1e-9), 1e-10)
        XCTAssertLessThanOrEqual(maxRelativeError(r.nullMaxTFCE!, try readFloat64(dir.appendingPathComponent("tfce.f64"))), 1e-10)
        // Cluster FWE p of the observed clusters against the exhaustive null.
        let lab = ClusterAnalysis.label(map: r.t, graph: grid.neighborGraph(.faces), threshold: thr)
        let p = ClusterAnalysis.fweP(lab.masses, null: r.nullMaxClusterMass!, exhaustive: true)
        XCTAssertTrue(p.allSatisfy { $0 > 0 && $0 <= 1 })
        XCTAssertNotNil(r.tfceFWEP)
        // Exact TFCE null runs too and is larger than zero.
        options.tfce = .exact
        let e = try PermutationTest.run(tested: [Double](repeating: 1, count: n), confounds: nil, data: y, grid: grid, options: options)
        XCTAssertEqual(e.nullMaxTFCE!.count, 256)
        XCTAssertGreaterThan(e.nullMaxTFCE!.min()!, 0)
    }
}

final class StatsContrastPartitionTests: XCTestCase {
    /// The partitioned permutation t equals the GLM contrast t, for a single-column contrast, a
    /// difference contrast, and a one-sample design with a covariate (→ sign flipping).
    func testPartitionReproducesGLMContrastT() throws {
        var g = StatsGaussian(seed: 51)
        let n = 18, v = 60
        let group = (0..<n).map { $0 < 9 ? 1.0 : 0.0 }
        let age = g.array(n)
        let y = Matrix(rows: n, columns: v, data: g.array(n * v))
        let design = Matrix(columns: [group, group.map { 1 - $0 }, age])  // cell-means coding
        for c in [[1.0, -1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, -2.0]] {
            let glmT = try GLMFit(design: design, data: y).tContrast(c).t
            let part = try ContrastPartition(design: design, contrast: c)
            var o = PermutationOptions(); o.permutations = 0
            let r = try PermutationTest.run(tested: part.tested, confounds: part.confounds, data: y, options: part.options(from: o))
            XCTAssertLessThanOrEqual(maxRelativeError(r.t, glmT), 1e-9, "contrast \(c)")
            XCTAssertFalse(r.signFlipping)
        }
        let oneSample = Matrix(columns: [[Double](repeating: 1, count: n), age])
        let part = try ContrastPartition(design: oneSample, contrast: [1, 0])
        var o = PermutationOptions(); o.permutations = 50
        let r = try PermutationTest.run(tested: part.tested, confounds: part.confounds, data: y, options: part.options(from: o))
        XCTAssertTrue(r.signFlipping)
        XCTAssertLessThanOrEqual(maxRelativeError(r.t, try GLMFit(design: oneSample, data: y).tContrast([1, 0]).t), 1e-9)
        XCTAssertThrowsError(try ContrastPartition(design: oneSample, contrast: [0, 0]))
    }
}

final class StatsPermutationPrecisionTests: XCTestCase {
    /// Float32 products (the fast path for large runs) give the same null within ~1e-5 relative
    /// and the same p-values (up to near-ties) as Float64, with the same seed.
    func testFloatPathMatchesDoublePath() throws {
        var g = StatsGaussian(seed: 61)
        let n = 30, v = 3000
        let tested = (0..<n).map { $0 < 15 ? 1.0 : 0.0 }
        let conf = Matrix(rows: n, columns: 2, data: g.array(n * 2))
        var y = Matrix(rows: n, columns: v, data: g.array(n * v))
        for c in stride(from: 0, to: v, by: 50) { for i in 0..<15 { y[i, c] += 1.5 } }
        var o = PermutationOptions(); o.permutations = 300; o.seed = 5
        o.precision = .double
        let d = try PermutationTest.run(tested: tested, confounds: conf, data: y, options: o)
        o.precision = .float
        let f = try PermutationTest.run(tested: tested, confounds: conf, data: y, options: o)
        XCTAssertEqual(d.t, f.t)  // observed t is always Float64
        XCTAssertLessThanOrEqual(maxRelativeError(f.nullMaxT, d.nullMaxT), 1e-5)
        let differing = zip(d.maxTFWEP, f.maxTFWEP).filter { abs($0 - $1) > 1.5 / 301 }.count
        XCTAssertEqual(differing, 0)
        let uncDiff = zip(d.uncorrectedP, f.uncorrectedP).filter { $0 != $1 }.count
        XCTAssertLessThanOrEqual(uncDiff, v / 100, "near-ties only")
    }
}

final class StatsPermutationEdgeCaseTests: XCTestCase {
    /// Constant and non-finite target columns give NaN t and p and do not disturb the others;
    /// zero permutations give NaN p; bad shapes throw.
    func testDegenerateTargets() throws {
        var g = StatsGaussian(seed: 71)
        let n = 12, v = 20
        var y = Matrix(rows: n, columns: v, data: g.array(n * v))
        for i in 0..<n { y[i, 3] = 7; y[i, 4] = 0 }
        y[5, 6] = .nan
        let tested = (0..<n).map { $0 < 6 ? 1.0 : 0.0 }
        var o = PermutationOptions(); o.permutations = 100
        let r = try PermutationTest.run(tested: tested, confounds: nil, data: y, options: o)
        for c in [3, 4, 6] {
            XCTAssertTrue(r.t[c].isNaN); XCTAssertTrue(r.maxTFWEP[c].isNaN); XCTAssertTrue(r.uncorrectedP[c].isNaN)
        }
        XCTAssertTrue(r.nullMaxT.allSatisfy { $0.isFinite })
        XCTAssertTrue(r.maxTFWEP.enumerated().filter { ![3, 4, 6].contains($0.offset) }.allSatisfy { $0.element > 0 && $0.element <= 1 })
        o.permutations = 0
        let z = try PermutationTest.run(tested: tested, confounds: nil, data: y, options: o)
        XCTAssertEqual(z.nullCount, 0); XCTAssertTrue(z.maxTFWEP.allSatisfy { $0.isNaN })
        XCTAssertThrowsError(try PermutationTest.run(tested: [1, 2], confounds: nil, data: y, options: o))
        XCTAssertThrowsError(try PermutationTest.run(tested: [Double](repeating: 0, count: n), confounds: nil, data: y, options: o))
        var spatial = PermutationOptions(); spatial.tfce = .exact
        XCTAssertThrowsError(try PermutationTest.run(tested: tested, confounds: nil, data: y, options: spatial)) {
            XCTAssertEqual(($0 as? GLMError)?.code, .shapeMismatch)
        }
    }
}
