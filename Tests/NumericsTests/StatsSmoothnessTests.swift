import Foundation
import XCTest
import Numerics

final class StatsSmoothnessTests: XCTestCase {
    /// Recovers the FWHM of Gaussian-smoothed white noise (σ = 1.5 voxels → FWHM 3.53).
    func testRecoversKnownFWHM() throws {
        let (nx, ny, nz) = (24, 24, 20), n = 12, sigma = 1.5
        var g = StatsGaussian(seed: 81)
        let radius = Int((4 * sigma).rounded(.up))
        let kernel = (-radius...radius).map { Foundation.exp(-Double($0 * $0) / (2 * sigma * sigma)) }
        func smooth(_ a: [Double]) -> [Double] {
            var m = a
            for axis in 0..<3 {
                var o = [Double](repeating: 0, count: m.count)
                for z in 0..<nz { for y in 0..<ny { for x in 0..<nx {
                    var s = 0.0
                    for (j, w) in kernel.enumerated() {
                        let d = j - radius
                        var (a2, b2, c2) = (x, y, z)
                        if axis == 0 { a2 += d } else if axis == 1 { b2 += d } else { c2 += d }
                        // periodic boundary keeps the field stationary
                        a2 = (a2 + nx) % nx; b2 = (b2 + ny) % ny; c2 = (c2 + nz) % nz
                        s += w * m[a2 + nx * (b2 + ny * c2)]
                    }
                    o[x + nx * (y + ny * z)] = s
                } } }
                m = o
            }
            return m
        }
        var rows: [Double] = []
        for _ in 0..<n { rows += smooth(g.array(nx * ny * nz)) }
        let grid = MaskGrid(nx: nx, ny: ny, nz: nz)
        let est = try SmoothnessEstimate(residuals: Matrix(rows: n, columns: nx * ny * nz, data: rows), grid: grid)
        let expected = sigma * (8 * Foundation.log(2.0)).squareRoot()
        let f = est.fwhmVoxels
        print("smoothness: FWHM \(f) expected \(expected), resel size \(est.reselSize), DLH \(est.dlh)")
        for v in [f.x, f.y, f.z] { XCTAssertEqual(v, expected, accuracy: 0.03 * expected) }
    }

    /// GRF cluster p: in (0, 1], decreasing in size, increasing in search volume; u ≤ 1 → 1.
    func testGRFClusterPBehaviour() {
        let p10 = GaussianRandomFieldClusters.clusterP(size: 10, zThreshold: 3.09, searchVolume: 200_000, dlh: 0.05)
        let p100 = GaussianRandomFieldClusters.clusterP(size: 100, zThreshold: 3.09, searchVolume: 200_000, dlh: 0.05)
        XCTAssertGreaterThan(p10, p100)
        XCTAssertTrue(p100 > 0 && p10 <= 1)
        XCTAssertGreaterThan(GaussianRandomFieldClusters.clusterP(size: 100, zThreshold: 3.09, searchVolume: 400_000, dlh: 0.05), p100)
        XCTAssertEqual(GaussianRandomFieldClusters.clusterP(size: 100, zThreshold: 0.5, searchVolume: 1000, dlh: 0.05), 1)
        let k = GaussianRandomFieldClusters.criticalSize(alpha: 0.05, zThreshold: 3.09, searchVolume: 200_000, dlh: 0.05)
        XCTAssertLessThanOrEqual(GaussianRandomFieldClusters.clusterP(size: Double(k), zThreshold: 3.09, searchVolume: 200_000, dlh: 0.05), 0.05)
        XCTAssertGreaterThan(GaussianRandomFieldClusters.clusterP(size: Double(k - 1), zThreshold: 3.09, searchVolume: 200_000, dlh: 0.05), 0.05)
    }
}
