import Foundation
import XCTest
@testable import Connectivity
import Numerics

/// The circularity guard: a cluster chosen because it separates the groups on the same subjects
/// gives an inflated in-sample AUC on pure noise; values from leave-one-out regions do not. With a
/// real effect both answers agree.
final class LeaveOneOutROITests: XCTestCase {
    private let nx = 14, ny = 14, nz = 6, subjects = 24

    /// Smooth noise maps (3 passes of 6-neighbour averaging), plus `effect` in a 4x4x3 block for
    /// the first half of the subjects.
    private func maps(seed: UInt64, effect: Double) -> Matrix {
        var rng = Xoshiro256StarStar(seed: seed)
        func gauss() -> Double {
            let u = (Double(rng.next() >> 11) + 0.5) * 0x1p-53, v = (Double(rng.next() >> 11) + 0.5) * 0x1p-53
            return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
        }
        let total = nx * ny * nz
        var y = Matrix(rows: subjects, columns: total)
        for i in 0..<subjects {
            var m = (0..<total).map { _ in gauss() }
            for _ in 0..<3 {
                var o = m
                for z in 0..<nz { for yy in 0..<ny { for x in 0..<nx {
                    var s = m[x + nx * (yy + ny * z)], c = 1.0
                    for (dx, dy, dz) in [(1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, 0, 1), (0, 0, -1)] {
                        let a = x + dx, b = yy + dy, e = z + dz
                        if a >= 0, b >= 0, e >= 0, a < nx, b < ny, e < nz { s += m[a + nx * (b + ny * e)]; c += 1 }
                    }
                    o[x + nx * (yy + ny * z)] = s / c
                } } }
                m = o
            }
            for z in 1..<4 { for yy in 5..<9 { for x in 5..<9 where i < subjects / 2 { m[x + nx * (yy + ny * z)] += effect } } }
            for v in 0..<total { y[i, v] = m[v] }
        }
        return y
    }

    /// (in-sample AUC, leave-one-out AUC) for the most massive positive cluster of "a > b".
    private func aucs(_ y: Matrix) throws -> (inSample: Double, leaveOneOut: Double, lost: Int) {
        let labels = (0..<subjects).map { $0 < subjects / 2 }
        func design(_ rows: [Int]) -> (Matrix, [Double]) {
            (Matrix(columns: [rows.map { labels[$0] ? 1 : 0 }, rows.map { labels[$0] ? 0 : 1 }]), [1, -1])
        }
        let grid = MaskGrid(nx: nx, ny: ny, nz: nz)
        let (x, c) = design(Array(0..<subjects))
        let t = try GLMFit(design: x, data: y).tContrast(c)
        let threshold = try ClusterAnalysis.tThreshold(p: 0.05, df: Double(t.df), twoSided: true)
        let labeling = ClusterAnalysis.label(map: t.t, graph: grid.neighborGraph(.faces), threshold: threshold, twoSided: true)
        let k = try XCTUnwrap((0..<labeling.count).filter { labeling.signs[$0] > 0 }.max { labeling.masses[$0] < labeling.masses[$1] })
        let original = (0..<grid.count).filter { labeling.labels[$0] == Int32(k + 1) }
        func mean(_ i: Int, _ voxels: [Int]) -> Double { voxels.reduce(0) { $0 + y[i, $1] } / Double(voxels.count) }
        let inSample = try ROCAnalysis(scores: (0..<subjects).map { mean($0, original) }, positive: labels, permutations: 0).auc

        let loo = LeaveOneOutROI(y: y, grid: grid, clusterP: 0.05, twoSided: true, connectivity: .faces) { heldOut in
            design((0..<self.subjects).filter { $0 != heldOut })
        }
        var scores: [Double] = [], kept: [Bool] = []
        for i in 0..<subjects {
            guard let region = try loo.region(heldOut: i, sign: 1, rank: 0) else { continue }
            XCTAssertFalse(region.isEmpty)
            scores.append(mean(i, region))
            kept.append(labels[i])
        }
        return (inSample, try ROCAnalysis(scores: scores, positive: kept, permutations: 0).auc, subjects - scores.count)
    }

    func testTheGuardRemovesTheSelectionBiasOnNoise() throws {
        var inSample = 0.0, leaveOneOut = 0.0
        let seeds: [UInt64] = [1, 2, 3, 4]
        for seed in seeds {
            let r = try aucs(maps(seed: seed, effect: 0))
            inSample += r.inSample / Double(seeds.count)
            leaveOneOut += r.leaveOneOut / Double(seeds.count)
        }
        // Selected on the same subjects, noise separates the groups; held out, it does not.
        XCTAssertGreaterThan(inSample, 0.85, "in-sample AUC \(inSample)")
        XCTAssertLessThan(leaveOneOut, 0.65, "leave-one-out AUC \(leaveOneOut)")
        XCTAssertGreaterThan(inSample - leaveOneOut, 0.2)
    }

    func testTheGuardKeepsARealEffect() throws {
        let r = try aucs(maps(seed: 5, effect: 1.5))
        XCTAssertGreaterThan(r.inSample, 0.95, "\(r)")
        XCTAssertGreaterThan(r.leaveOneOut, 0.9)
        XCTAssertLessThan(abs(r.inSample - r.leaveOneOut), 0.08)
        XCTAssertEqual(r.lost, 0)
    }
}
