import Foundation
import XCTest
@testable import Numerics

/// The thread budget: parallel loops never run more workers than it allows, nested kernels run
/// serially, and every parallel kernel gives the same bits whatever the budget.
final class ThreadBudgetTests: XCTestCase {
    /// 64 iterations under a budget of 2: every index once, at most 2 bodies at a time, and a
    /// budget of 1 inside them.
    func testParallelLoopStaysWithinTheBudget() {
        let state = NSLock()
        var active = 0, maxActive = 0, innerBudgets = Set<Int>()
        var visits = [Int](repeating: 0, count: 64)
        ThreadBudget.with(2) {
            XCTAssertEqual(ThreadBudget.current, 2)
            Parallel.forEach(64) { i in
                state.lock(); active += 1; maxActive = max(maxActive, active); visits[i] += 1; innerBudgets.insert(ThreadBudget.current); state.unlock()
                var x = 0.0
                for k in 0..<20_000 { x += sin(Double(k + i)) }  // work long enough for workers to overlap
                state.lock(); active -= 1; if x.isNaN { visits[i] += 1 }; state.unlock()
            }
        }
        XCTAssertEqual(visits, [Int](repeating: 1, count: 64))
        XCTAssertLessThanOrEqual(maxActive, 2)
        XCTAssertEqual(innerBudgets, [1], "kernels nested in a parallel loop run serially")
        XCTAssertEqual(Parallel.workers(for: 100), ProcessInfo.processInfo.activeProcessorCount == 1 ? 1 : min(100, ThreadBudget.current))
        XCTAssertEqual(ThreadBudget.with(3) { Parallel.workers(for: 2) }, 2)
    }

    /// Cleaning, smoothing, seed correlation and permutation inference (max-T, cluster mass and
    /// TFCE nulls) give identical bits with 1 thread and with 3.
    func testKernelsGiveTheSameBitsWhateverTheBudget() throws {
        func both<T: Equatable>(_ name: String, _ f: () throws -> T) throws {
            let one = try ThreadBudget.with(1) { try f() }
            let three = try ThreadBudget.with(3) { try f() }
            XCTAssertEqual(one, three, "\(name) differs between 1 and 3 threads")
        }
        let conf = SignalTestData.confounds(t: 80, k: 4, seed: 5)
        let signals = SignalTestData.signals(t: 80, v: 1000, confounds: conf, seed: 6)
        var o = SignalCleanOptions(lowPass: 0.1, highPass: 0.01, repetitionTime: 2)
        o.sampleMask = (0..<80).map { $0 % 13 != 4 }
        try both("SignalClean") { () -> [Float] in
            var buffer = signals.data.map { Float($0) }
            _ = try SignalClean(options: o).clean(inPlace: &buffer, timePoints: 80, confounds: conf)
            return buffer
        }
        let seed = (0..<80).map { sin(Double($0) / 3) }
        try both("SeedCorrelation") { try SeedCorrelation.pearson(seed: seed, data: signals.data, timePoints: 80) }
        // 1000 voxels: 8 blocks of 128, the last one partial, so one worker handles several blocks
        // (a partial block once kept the previous block's projections).
        let seeds = Matrix(columns: [seed, (0..<80).map { cos(Double($0) / 5) }])
        try both("partial correlation") { try SeedCorrelation.partialCorrelation(seeds: seeds, data: signals.data, timePoints: 80) }
        let shape = [9, 8, 7, 6]
        let volume = (0..<shape.reduce(1, *)).map { Double(($0 * 7919) % 101) / 10 }
        try both("GaussianSmoothing") { () -> [Double] in
            var data = volume
            try GaussianSmoothing(fwhm: [6], voxelSize: [3, 3, 3]).smooth(&data, shape: shape)
            return data
        }
        let grid = MaskGrid(nx: 7, ny: 6, nz: 5)
        var g = StatsGaussian(seed: 41)
        let n = 14, v = grid.count
        var y = Matrix(rows: n, columns: v, data: [Double](repeating: 0, count: n * v))
        for i in 0..<n {
            let m = smoothNoiseMap(nx: 7, ny: 6, nz: 5, passes: 2, gauss: &g)
            for c in 0..<v { y[i, c] = m[c] + (i < 7 && c < 50 ? 1.5 : 0) }
        }
        var options = PermutationOptions(); options.permutations = 400
        options.clusterThreshold = 2.2
        options.tfce = .exact
        let tested = (0..<n).map { $0 < 7 ? 1.0 : 0.0 }
        try both("PermutationTest") { () -> [[Double]] in
            let r = try PermutationTest.run(tested: tested, confounds: nil, data: y, grid: grid, options: options)
            return [r.t, r.maxTFWEP, r.nullMaxT, r.nullMaxClusterMass ?? [], r.nullMaxTFCE ?? [], r.tfceFWEP ?? []]
        }
    }
}
