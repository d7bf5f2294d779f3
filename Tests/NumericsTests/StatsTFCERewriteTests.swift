import Foundation
import XCTest
import Numerics

/// The rank-space exact TFCE (`TFCEWorkspace`) against the previous voxel-indexed implementation
/// (`TFCEReference`, kept verbatim): equal to 1e-9 relative per voxel on maps that stress the
/// sort (ties, values equal in Float32 but not Float64, values that are all Float32 as in a
/// Float32 permutation null, NaN), both signs, one- and two-sided,
/// non-standard E/H, 26-connectivity, masks with holes, and workspace reuse across sizes.
final class StatsTFCERewriteTests: XCTestCase {
    private func holeyGrid(_ nx: Int, _ ny: Int, _ nz: Int, seed: UInt64) -> MaskGrid {
        var g = StatsGaussian(seed: seed)
        return MaskGrid(nx: nx, ny: ny, nz: nz, mask: (0..<(nx * ny * nz)).map { _ in g.next() > -1.5 })
    }

    /// Agreement with the reference: within 1e-12 of the map's largest |TFCE| everywhere, and
    /// 1e-9 relative per voxel wherever |TFCE| ≥ 1e-6 of the maximum (below that the reference's
    /// offset cancellation, ~1e-16 × its component's integral, dominates). Signs and zeros exact:
    /// TFCE is non-zero exactly where the voxel is included, with the sign of the map.
    private func assertClose(_ a: [Double], _ b: [Double], map: [Double], twoSided: Bool, _ label: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, label, file: file, line: line)
        let top = b.map { abs($0) }.max() ?? 0
        var absErr = 0.0, relErr = 0.0
        for i in 0..<a.count {
            let d = abs(a[i] - b[i])
            absErr = max(absErr, d)
            if abs(b[i]) >= 1e-6 * top { relErr = max(relErr, d / abs(b[i])) }
        }
        XCTAssertLessThanOrEqual(absErr, 1e-12 * top, label, file: file, line: line)
        XCTAssertLessThanOrEqual(relErr, 1e-9, label, file: file, line: line)
        for i in 0..<a.count {
            let included = twoSided ? abs(map[i]) > 0 : map[i] > 0
            if !included { XCTAssertEqual(a[i], 0, label, file: file, line: line); continue }
            if !(a[i] != 0 && (a[i] > 0) == (map[i] > 0)) {
                XCTFail("\(label): voxel \(i) value \(a[i]) for map \(map[i])", file: file, line: line); return
            }
        }
    }

    /// Values 1 + k·1e-12 (equal in Float32, distinct in Float64), every third one negated.
    private func float32Equal(_ map: [Double]) -> [Double] {
        var out = [Double](repeating: 0, count: map.count)
        for (i, x) in map.enumerated() {
            let k = Double(Int(abs(x) * 1000) % 97)
            let value: Double = 1 + 1e-12 * k
            out[i] = i % 3 == 0 ? -value : value
        }
        return out
    }

    func testRankSpaceTFCEEqualsReference() {
        let workspace = TFCEWorkspace()
        var g = StatsGaussian(seed: 77)
        for (case_, dims) in [(0, (14, 12, 10)), (1, (30, 25, 20)), (2, (6, 5, 4)), (3, (30, 25, 20))].enumerated() {
            let (nx, ny, nz) = dims.1
            let grid = holeyGrid(nx, ny, nz, seed: UInt64(case_))
            var full = smoothNoiseMap(nx: nx, ny: ny, nz: nz, passes: 3, gauss: &g)
            var map = grid.voxelIndices.map { 4 * full[$0] }
            full = []
            let variants: [(String, [Double])] = [
                ("smooth", map),
                ("ties", map.map { ($0 * 4).rounded() / 4 }),
                ("float32", map.map { Double(Float($0)) }),
                ("float32-equal", float32Equal(map)),
                ("nan", map.enumerated().map { $0.offset % 17 == 0 ? .nan : $0.element }),
                ("all negative", map.map { -abs($0) - 0.01 }),
                ("wide range", map.map { $0 * Foundation.exp(3 * $0) }),
            ]
            map = []
            for connectivity in [VoxelConnectivity.faces, .vertices] {
                let graph = grid.neighborGraph(connectivity)
                for (name, m) in variants {
                    for twoSided in [true, false] {
                        let label = "\(dims.1) \(connectivity) \(name) twoSided=\(twoSided)"
                        let ref = TFCEReference.exact(map: m, graph: graph, twoSided: twoSided)
                        var ours = [Double](repeating: .nan, count: m.count)
                        m.withUnsafeBufferPointer { mp in ours.withUnsafeMutableBufferPointer { op in
                            TFCE.exact(map: mp, graph: graph, out: op, twoSided: twoSided, workspace: workspace)
                        } }
                        assertClose(ours, ref, map: m, twoSided: twoSided, label)
                        let mx = m.withUnsafeBufferPointer { TFCE.exactMaximum(map: $0, graph: graph, twoSided: twoSided, workspace: workspace) }
                        XCTAssertEqual(mx, ref.map { twoSided ? abs($0) : $0 }.max()!, accuracy: 1e-12 * max(1, mx), label)
                    }
                    let (e, h) = (1.0, 1.5)
                    let refEH = TFCEReference.exact(map: m, graph: graph, E: e, H: h)
                    assertClose(TFCE.exact(map: m, graph: graph, E: e, H: h), refEH, map: m, twoSided: true, "\(name) E=1 H=1.5")
                    let mxEH = m.withUnsafeBufferPointer { TFCE.exactMaximum(map: $0, graph: graph, E: e, H: h, workspace: workspace) }
                    XCTAssertEqual(mxEH, refEH.map { abs($0) }.max()!, accuracy: 1e-12 * max(1, mxEH), "\(name) E=1 H=1.5 maximum")
                }
            }
        }
    }

    /// A hand-checkable case: a 1-D chain 3, 2, 1 (one cluster): TFCE(v) = Σ pieces e^½ Δ(h³/3).
    func testChainValues() {
        let grid = MaskGrid(nx: 3, ny: 1, nz: 1)
        let t = TFCE.exact(map: [3, 2, 1], graph: grid.neighborGraph(.faces))
        // Voxel 0: [2,3] size 1, [1,2] size 2, [0,1] size 3.
        let f = { (h: Double) in h * h * h / 3 }
        let v0 = (f(3) - f(2)) + 2.0.squareRoot() * (f(2) - f(1)) + 3.0.squareRoot() * f(1)
        let v1 = 2.0.squareRoot() * (f(2) - f(1)) + 3.0.squareRoot() * f(1)
        let v2 = 3.0.squareRoot() * f(1)
        XCTAssertEqual(t[0], v0, accuracy: 1e-13); XCTAssertEqual(t[1], v1, accuracy: 1e-13); XCTAssertEqual(t[2], v2, accuracy: 1e-13)
    }
}
