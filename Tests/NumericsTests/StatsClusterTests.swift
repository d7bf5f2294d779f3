import Foundation
import XCTest
import TestSupport
import Numerics

final class StatsClusterTests: XCTestCase {
    let nx = 13, ny = 11, nz = 9

    private func fixture(seed: UInt64) -> (MaskGrid, [Double], [Bool]) {
        var g = StatsGaussian(seed: seed)
        let full = smoothNoiseMap(nx: nx, ny: ny, nz: nz, passes: 2, gauss: &g).map { $0 * 3 }
        var mask = [Bool](repeating: false, count: nx * ny * nz)
        for z in 0..<nz { for y in 0..<ny { for x in 0..<nx {
            let a = Double(x - 6) / 6.5, b = Double(y - 5) / 5.5, c = Double(z - 4) / 4.5
            mask[x + nx * (y + ny * z)] = a * a + b * b + c * c <= 1.05
        } } }
        let grid = MaskGrid(nx: nx, ny: ny, nz: nz, mask: mask)
        return (grid, grid.voxelIndices.map { full[$0] }, mask)
    }

    private func writeGrid(_ dir: URL, grid: MaskGrid, map: [Double], mask: [Bool], extra: [Double]) throws {
        var full = [Double](repeating: 0, count: nx * ny * nz)
        for (m, g) in grid.voxelIndices.enumerated() { full[g] = map[m] }
        try writeFloat64(full, to: dir.appendingPathComponent("map.f64"))
        try writeFloat64(mask.map { $0 ? 1 : 0 }, to: dir.appendingPathComponent("mask.f64"))
        try writeFloat64([Double(nx), Double(ny), Double(nz)] + extra, to: dir.appendingPathComponent("shape.f64"))
    }

    /// Labels equal scipy.ndimage.label (same partition) for 6/18/26-connectivity, both signs.
    func testLabelsMatchScipy() throws {
        let (grid, map, mask) = fixture(seed: 21)
        let thr = 1.2
        for (rank, conn) in [(1, VoxelConnectivity.faces), (2, .edges), (3, .vertices)] {
            let dir = try statsTempDir()
            try writeGrid(dir, grid: grid, map: map, mask: mask, extra: [Double(rank), thr])
            try runStatsScript("stats_clusters.py", ["label", dir.path])
            let pos = try readFloat64(dir.appendingPathComponent("pos.f64"))
            let neg = try readFloat64(dir.appendingPathComponent("neg.f64"))
            let lab = ClusterAnalysis.label(map: map, graph: grid.neighborGraph(conn), threshold: thr)
            var ours2scipy: [Int32: Double] = [:], scipy2ours: [Double: Int32] = [:]
            var consistent = true
            for (m, gIdx) in grid.voxelIndices.enumerated() {
                let ref = map[m] > thr ? pos[gIdx] : (map[m] < -thr ? -neg[gIdx] : 0)
                let ours = lab.labels[m]
                if (ref == 0) != (ours == 0) { consistent = false; continue }
                if ours == 0 { continue }
                if let r = ours2scipy[ours], r != ref { consistent = false }
                if let o = scipy2ours[ref], o != ours { consistent = false }
                ours2scipy[ours] = ref; scipy2ours[ref] = ours
            }
            XCTAssertTrue(consistent, "partition differs from scipy for connectivity \(conn)")
            XCTAssertEqual(lab.count, Int(pos.max()! + neg.max()!), "cluster count, \(conn)")
            XCTAssertGreaterThan(lab.count, 2)
            // Sizes / masses by definition.
            for k in 0..<lab.count {
                let members = (0..<map.count).filter { lab.labels[$0] == Int32(k + 1) }
                XCTAssertEqual(lab.sizes[k], members.count)
                XCTAssertEqual(lab.masses[k], members.reduce(0) { $0 + abs(map[$1]) - thr }, accuracy: 1e-9)
            }
            var ptr = (size: 0.0, mass: 0.0)
            map.withUnsafeBufferPointer { ptr = ClusterAnalysis.maxSizeAndMass(map: $0, graph: grid.neighborGraph(conn), threshold: thr, twoSided: true) }
            XCTAssertEqual(ptr.size, Double(lab.sizes.max()!))
            XCTAssertEqual(ptr.mass, lab.masses.max()!, accuracy: 1e-9)
        }
    }

    /// Stepped TFCE equals nilearn's calculate_tfce.
    func testSteppedTFCEMatchesNilearn() throws {
        let (grid, map, mask) = fixture(seed: 22)
        let dir = try statsTempDir()
        try writeGrid(dir, grid: grid, map: map, mask: mask, extra: [])
        try runStatsScript("stats_clusters.py", ["tfce", dir.path])
        let ref = try readFloat64(dir.appendingPathComponent("tfce.f64"))
        let ours = TFCE.nilearnStepped(map: map, graph: grid.neighborGraph(.faces))
        let err = maxRelativeError(ours, grid.voxelIndices.map { ref[$0] }, floor: 1e-12)
        print("stepped TFCE vs nilearn max rel err", err)
        XCTAssertLessThanOrEqual(err, 1e-10)
        XCTAssertGreaterThan(ours.map { abs($0) }.max()!, 0)
    }

    /// Exact TFCE equals a brute-force fine-step midpoint integration, and the error shrinks.
    func testExactTFCEConvergesToBruteForce() {
        var g = StatsGaussian(seed: 23)
        let (sx, sy, sz) = (7, 6, 5)
        let grid = MaskGrid(nx: sx, ny: sy, nz: sz)
        let map = smoothNoiseMap(nx: sx, ny: sy, nz: sz, passes: 1, gauss: &g).map { $0 * 2.5 }
        let graph = grid.neighborGraph(.faces)
        let exact = TFCE.exact(map: map, graph: graph)
        func brute(_ steps: Int) -> [Double] {
            var out = [Double](repeating: 0, count: map.count)
            let top = map.map { abs($0) }.max()!
            let dh = top / Double(steps)
            for sign in [1.0, -1.0] {
                for k in 0..<steps {
                    let h = (Double(k) + 0.5) * dh
                    let lab = ClusterAnalysis.label(map: map.map { sign * $0 }, graph: graph, threshold: h, twoSided: false)
                    // label uses strict >; measure-zero difference for the integral.
                    for m in 0..<map.count where lab.labels[m] > 0 {
                        out[m] += sign * Double(lab.sizes[Int(lab.labels[m]) - 1]).squareRoot() * h * h * dh
                    }
                }
            }
            return out
        }
        let coarse = brute(200), fine = brute(4000)
        // Error relative to the map's largest |TFCE| (voxels near 0 have tiny values).
        let top = exact.map { abs($0) }.max()!
        let eCoarse = maxRelativeError(coarse, exact, floor: top), eFine = maxRelativeError(fine, exact, floor: top)
        print("exact TFCE vs brute force: 200 steps \(eCoarse), 4000 steps \(eFine)")
        XCTAssertLessThan(eFine, 1e-3)
        XCTAssertLessThan(eFine * 5, eCoarse)
        XCTAssertLessThan(eFine, eCoarse)
        // Edge cases: all zero → zero; a single positive voxel → t³/3.
        XCTAssertEqual(TFCE.exact(map: [Double](repeating: 0, count: map.count), graph: graph), [Double](repeating: 0, count: map.count))
        var one = [Double](repeating: 0, count: map.count); one[5] = 2
        XCTAssertEqual(TFCE.exact(map: one, graph: graph)[5], 8.0 / 3.0, accuracy: 1e-14)
    }

    /// The cluster-forming threshold helper equals scipy t.isf(p/2, df) (two-sided).
    func testClusterThresholdHelper() throws {
        XCTAssertEqual(try ClusterAnalysis.tThreshold(p: 0.001, df: 45), 3.520251464971098, accuracy: 1e-9)
        XCTAssertEqual(try ClusterAnalysis.tThreshold(p: 0.001, df: 45, twoSided: false), 3.2814798482, accuracy: 1e-9)
        XCTAssertThrowsError(try ClusterAnalysis.tThreshold(p: 0, df: 10))
    }

    /// FDR threshold equals nilearn.glm.fdr_threshold; q-values equal a BH reference.
    func testFDRMatchesNilearn() throws {
        var g = StatsGaussian(seed: 24)
        var z = g.array(3000)
        for i in 0..<150 { z[i] += 4 }
        let dir = try statsTempDir()
        try writeFloat64(z, to: dir.appendingPathComponent("z.f64"))
        try writeFloat64([0.05], to: dir.appendingPathComponent("alpha.f64"))
        try runStatsScript("stats_clusters.py", ["fdr", dir.path])
        let thr = try readFloat64(dir.appendingPathComponent("fdr.f64"))[0]
        XCTAssertEqual(try BenjaminiHochberg.nilearnZThreshold(z, alpha: 0.05), thr)
        let q = BenjaminiHochberg.qValues(z.map(NormalDistribution.sf))
        XCTAssertLessThanOrEqual(maxRelativeError(q, try readFloat64(dir.appendingPathComponent("q.f64"))), 1e-12)
        XCTAssertEqual(try BenjaminiHochberg.nilearnZThreshold([0, 0.1], alpha: 0.05), .infinity)
        XCTAssertThrowsError(try BenjaminiHochberg.nilearnZThreshold(z, alpha: 2))
        let p = z.map(NormalDistribution.sf)
        if let pt = BenjaminiHochberg.pThreshold(p, alpha: 0.05) {
            XCTAssertEqual(zip(p, q).filter { $0.0 <= pt }.count, q.filter { $0 <= 0.05 }.count)
        } else { XCTFail("expected discoveries") }
    }
}

final class StatsClusterTableTests: XCTestCase {
    /// Rows equal nilearn get_clusters_table on a small image with blobs (one- and two-sided).
    func testMatchesNilearnGetClustersTable() throws {
        let (nx, ny, nz) = (24, 22, 16)
        var g = StatsGaussian(seed: 41)
        var full = smoothNoiseMap(nx: nx, ny: ny, nz: nz, passes: 2, gauss: &g).map { $0 * 0.8 }
        func blob(_ cx: Double, _ cy: Double, _ cz: Double, _ amp: Double, _ s: Double) {
            for z in 0..<nz { for y in 0..<ny { for x in 0..<nx {
                let d2 = (Double(x) - cx) * (Double(x) - cx) + (Double(y) - cy) * (Double(y) - cy) + (Double(z) - cz) * (Double(z) - cz)
                full[x + nx * (y + ny * z)] += amp * Foundation.exp(-d2 / (2 * s * s))
            } } }
        }
        blob(6, 6, 5, 6, 2.5); blob(11, 7, 6, 5, 1.5); blob(17, 15, 10, -5.5, 2.0); blob(16, 5, 11, 4.5, 1.2)
        var mask = [Bool](repeating: true, count: nx * ny * nz)
        for i in 0..<mask.count where i % nx == 0 { mask[i] = false }  // a masked-out slab
        let grid = MaskGrid(nx: nx, ny: ny, nz: nz, mask: mask)
        let map = grid.voxelIndices.map { full[$0] }
        let affine: [Double] = [-2, 0, 0, 90, 0, 2, 0, -126, 0, 0, 2, -72, 0, 0, 0, 1]
        for (twoSided, minSize) in [(false, 0), (true, 0), (true, 5)] {
            let dir = try statsTempDir()
            var full0 = [Double](repeating: 0, count: nx * ny * nz)
            for (m, gi) in grid.voxelIndices.enumerated() { full0[gi] = map[m] }
            try writeFloat64(full0, to: dir.appendingPathComponent("map.f64"))
            try writeFloat64(mask.map { $0 ? 1 : 0 }, to: dir.appendingPathComponent("mask.f64"))
            try writeFloat64([Double(nx), Double(ny), Double(nz), 2.5, twoSided ? 1 : 0, Double(minSize)], to: dir.appendingPathComponent("shape.f64"))
            try writeFloat64(affine, to: dir.appendingPathComponent("affine.f64"))
            try runStatsScript("stats_clusters.py", ["table", dir.path])
            let ref = try readFloat64(dir.appendingPathComponent("table.f64"))
            let rows = ClusterTable.make(map: map, grid: grid, affine: affine, threshold: 2.5, minClusterSize: minSize, twoSided: twoSided)
            XCTAssertEqual(rows.count, ref.count / 7, "row count (twoSided \(twoSided), min \(minSize))")
            XCTAssertGreaterThan(rows.count, 3)
            for (i, row) in rows.enumerated() where i * 7 + 6 < ref.count {
                let r = Array(ref[(i * 7)..<(i * 7 + 7)])
                let letters = Array("abcdefghijklmnopqrstuvwxyz")
                let expectedID = r[1] == 0 ? "\(Int(r[0]))" : "\(Int(r[0]))\(letters[Int(r[1]) - 1])"
                XCTAssertEqual(row.id, expectedID, "row \(i)")
                XCTAssertEqual(row.x, r[2], accuracy: 1e-9); XCTAssertEqual(row.y, r[3], accuracy: 1e-9); XCTAssertEqual(row.z, r[4], accuracy: 1e-9)
                XCTAssertEqual(row.peakStat, r[5], accuracy: 1e-12)
                XCTAssertEqual(row.clusterSizeMM3.map(Double.init) ?? -1, r[6])
            }
        }
    }
}
