import Foundation
import XCTest
import TestSupport
@testable import Numerics

/// `SeedCorrelation` and `SeedSummary` against numpy (Tests/CrossCheck/signal_connectivity.py).
final class SignalConnectivityTests: XCTestCase {
    func testPearsonPartialROIAndEigenvariateMatchNumpy() throws {
        let dir = try SignalTestData.temporaryDirectory("conn")
        defer { try? FileManager.default.removeItem(at: dir) }
        let t = 150, v = 300, m = 3, n = 20
        var rng = SignalTestRandom(seed: 21)
        var seeds = Matrix(rows: t, columns: m)
        for r in 0..<t { for k in 0..<m { seeds[r, k] = rng.normal() + (k > 0 ? 0.5 * seeds[r, 0] : 0) } }
        var data = [Double](repeating: 0, count: t * v)
        for c in 0..<v {
            let w = (0..<m).map { _ in rng.normal() }
            let offset = 1000 * rng.normal()
            for r in 0..<t {
                var x = offset + 3 * rng.normal()
                for k in 0..<m { x += w[k] * seeds[r, k] }
                data[r * v + c] = x
            }
        }
        for r in 0..<t { data[r * v + 7] = 42 }            // constant voxel → r = 0
        for r in 0..<t { data[r * v + 8] = seeds[r, 0] }  // the seed itself → r = 1
        let seed = seeds.column(0)
        var region = Matrix(rows: t, columns: n)
        for r in 0..<t { for c in 0..<n { region[r, c] = 50 + Double(c) + (c % 3 == 0 ? -1 : 2) * seed[r] + rng.normal() } }
        try writeFloat64(data, to: dir.appendingPathComponent("data.f64"))
        try writeFloat64(seed, to: dir.appendingPathComponent("seed.f64"))
        try writeFloat64(seeds.data, to: dir.appendingPathComponent("seeds.f64"))
        try writeFloat64(region.data, to: dir.appendingPathComponent("region.f64"))
        try SignalTestData.runCrossCheckScript("signal_connectivity.py", [dir.path, "\(t)", "\(v)", "\(m)", "\(n)"], modules: ["numpy"])

        let r = try SeedCorrelation.pearson(seed: seed, data: data, timePoints: t)
        let rRef = try readFloat64(dir.appendingPathComponent("pearson.ref.f64"))
        let dR = SignalTestData.maxAbsDifference(r, rRef)
        XCTAssertLessThanOrEqual(dR, 1e-12)
        XCTAssertEqual(r[7], 0)
        XCTAssertEqual(r[8], 1, accuracy: 1e-14)
        XCTAssertEqual(SeedCorrelation.fisherZ(r[8]), atanh(1 - 1e-7), accuracy: 1e-9)
        XCTAssertTrue(r.map(SeedCorrelation.fisherZ).allSatisfy { $0.isFinite })
        // Float buffer path.
        let rf = try SeedCorrelation.pearson(seed: seed, data: data.map { Float($0) }, timePoints: t)
        XCTAssertLessThanOrEqual(SignalTestData.maxAbsDifference(rf, rRef), 1e-5)

        let roi = SeedCorrelation.correlationMatrix(seeds)
        let dROI = SignalTestData.maxAbsDifference(roi.data, try readFloat64(dir.appendingPathComponent("roi.ref.f64")))
        XCTAssertLessThanOrEqual(dROI, 1e-13)

        let partial = try SeedCorrelation.partialCorrelation(seeds: seeds, data: data, timePoints: t)
        let pRef = try readFloat64(dir.appendingPathComponent("partial.ref.f64"))
        var partialFlat = partial.flatMap { $0 }
        // Column 8 equals seed 0: its residual is the seed residual (r = 1) for i = 0 and 0 for
        // i > 0 (numpy gives 0/0 → 0 after our NaN rule, or rounding noise; exclude it).
        var refFlat = pRef
        // Column 7 is constant: its residual is pure rounding noise, which numpy correlates
        // (|r| ~ 1e-2); pipe's rule gives exactly 0.
        for i in 0..<m {
            XCTAssertEqual(partialFlat[i * v + 7], 0)
            partialFlat[i * v + 8] = 0; refFlat[i * v + 8] = 0
            refFlat[i * v + 7] = 0
        }
        let dP = SignalTestData.maxAbsDifference(partialFlat, refFlat)
        XCTAssertLessThanOrEqual(dP, 1e-10)
        XCTAssertEqual(partial[0][8], 1, accuracy: 1e-12)

        let eig = SeedSummary.eigenvariate(region)
        let dE = SignalTestData.maxAbsDifference(eig, try readFloat64(dir.appendingPathComponent("eigen.ref.f64")))
        XCTAssertLessThanOrEqual(dE, 1e-9)
        print("connectivity vs numpy: pearson \(dR), roi \(dROI), partial \(dP), eigenvariate \(dE)")
    }

    func testSeedSummaryMeanGatherAndEdgeCases() throws {
        let data: [Float] = [1, 2, 3, 4, 5, 6]  // T = 2, V = 3
        let g = try SeedSummary.gather(data, timePoints: 2, columns: [0, 2])
        XCTAssertEqual(SeedSummary.mean(g), [2, 5])
        XCTAssertThrowsError(try SeedSummary.gather(data, timePoints: 2, columns: [3]))
        // Constant region → zero eigenvariate, no NaN.
        XCTAssertEqual(SeedSummary.eigenvariate(Matrix(rows: 4, columns: 2, repeating: 7)), [0, 0, 0, 0])
        // Eigenvariate of a rank-one region with positive loadings is the centred series · s/√n, sign +.
        let base: [Double] = [1, -2, 0.5, 3, -2.5]
        let region = Matrix(columns: [base.map { 2 * $0 + 10 }, base.map { 2 * $0 - 1 }])
        let e = SeedSummary.eigenvariate(region)
        let mean = base.reduce(0, +) / 5
        for (a, b) in zip(e, base) { XCTAssertEqual(a, 2 * (b - mean), accuracy: 1e-12) }
        // Zero-variance seed → all r = 0.
        XCTAssertEqual(try SeedCorrelation.pearson(seed: [1, 1, 1], data: [1, 2, 3, 4, 5, 9] as [Double], timePoints: 3), [0, 0])
        XCTAssertEqual(SeedCorrelation.fisherZ(.nan), 0)
        XCTAssertEqual(SeedCorrelation.fisherZ(-1), -atanh(1 - 1e-7))
        XCTAssertEqual(SeedCorrelation.fisherZ(0.5), atanh(0.5))
        // NaN in a voxel → r = 0, never NaN.
        XCTAssertEqual(try SeedCorrelation.pearson(seed: [1, 2, 3], data: [1, .nan, 2, 5, 3, 4] as [Double], timePoints: 3)[1], 0)
    }
}
