import XCTest
import CKernels
@testable import Numerics

/// The permutation kernel's products and t passes: the AVX2 path and the portable path give the
/// same bits (so results do not depend on the CPU a task runs on). The Float32 ones match a
/// Double reference; the Double ones give exactly the bits of a plain loop in Swift.
final class PanelGemmTests: XCTestCase {
    func testAVX2AndPortablePathsAreBitIdentical() throws {
        var gauss = StatsGaussian(seed: 5)
        let panelCount = 7, n = 49, w = PermutationKernel.blockWidth
        let panels = gauss.array(panelCount * n * 4).map(Float.init)
        let y = gauss.array(n * w).map(Float.init)
        var dispatched = [Float](repeating: 0, count: panelCount * 4 * w)
        var portable = dispatched
        pipe_panel_gemm_f32(panels, Int32(panelCount), Int32(n), y, Int32(w), &dispatched)
        pipe_panel_gemm_f32_portable(panels, Int32(panelCount), Int32(n), y, Int32(w), &portable)
        XCTAssertEqual(dispatched.map(\.bitPattern), portable.map(\.bitPattern),
                       "best path on this CPU: \(pipe_kernels_path()) (2 AVX-512, 1 AVX2, 0 portable)")
        // Each vector path this CPU has, on its own (AVX-512 needs w a multiple of 64; the AVX2 tile
        // 16), and a width the AVX-512 tile does not take, which falls back to the AVX2 tile.
        XCTAssertEqual(w % 64, 0)
        onEveryKernelPath { path in
            var onPath = [Float](repeating: 0, count: panelCount * 4 * w)
            pipe_panel_gemm_f32(panels, Int32(panelCount), Int32(n), y, Int32(w), &onPath)
            XCTAssertEqual(onPath.map(\.bitPattern), portable.map(\.bitPattern), "path \(path)")
        }
        let narrow = 48
        let yNarrow = Array(y.prefix(n * narrow))
        var narrowBest = [Float](repeating: 0, count: panelCount * 4 * narrow), narrowPortable = narrowBest
        pipe_panel_gemm_f32(panels, Int32(panelCount), Int32(n), yNarrow, Int32(narrow), &narrowBest)
        pipe_panel_gemm_f32_portable(panels, Int32(panelCount), Int32(n), yNarrow, Int32(narrow), &narrowPortable)
        XCTAssertEqual(narrowBest.map(\.bitPattern), narrowPortable.map(\.bitPattern), "w = 48")
        for p in 0..<panelCount {
            for r in 0..<4 {
                for col in 0..<w {
                    var exact = 0.0
                    for k in 0..<n { exact += Double(panels[(p * n + k) * 4 + r]) * Double(y[k * w + col]) }
                    XCTAssertEqual(Double(portable[(p * 4 + r) * w + col]), exact, accuracy: 1e-4)
                }
            }
        }
    }

    func testTPassAVX2AndPortablePathsAreBitIdentical() throws {
        var gauss = StatsGaussian(seed: 11)
        let bCount = 5, rPer = 4, w = PermutationKernel.blockWidth
        // Products of unit vectors: |b|, |q| < 1; a few tiles with rss ≤ 0 (exact fits → t = 0).
        var c = gauss.array(bCount * rPer * w).map { Float($0 * 0.3) }
        c[3] = 0.9; c[w + 3] = 0.5; c[2 * w + 3] = 0.1             // rss < 0
        c[4] = 1; c[w + 4] = 0; c[2 * w + 4] = 0; c[3 * w + 4] = 0  // rss = 0
        let cut = gauss.array(w).map { Float(abs($0) * 2) }
        for twoSided in [true, false] {
            let (exP, maxP, tP) = bothTPasses(c, cut: cut, bCount: bCount, rPer: rPer, scale: 44, twoSided: twoSided,
                                               pipe_tpass_f32, pipe_tpass_f32_portable)
            // Against the formula in Double.
            var expectedExceed = [Double](repeating: 0, count: w)
            for b in 0..<bCount {
                var expectedMax = -Double.infinity
                for v in 0..<w {
                    let bb = Double(c[b * rPer * w + v])
                    var rss = 1 - bb * bb
                    for r in 1..<rPer { let q = Double(c[(b * rPer + r) * w + v]); rss -= q * q }
                    let t = rss <= 0 ? 0 : bb * (44 / rss).squareRoot()
                    XCTAssertEqual(tP[b * w + v], t, accuracy: 1e-5 * max(1, abs(t)))
                    let st = twoSided ? abs(t) : t
                    expectedMax = max(expectedMax, st)
                    if Float(st) >= cut[v] { expectedExceed[v] += 1 }
                }
                XCTAssertEqual(maxP[b], expectedMax, accuracy: 1e-5 * max(1, abs(expectedMax)))
            }
            XCTAssertEqual(tP[3], 0); XCTAssertEqual(tP[4], 0)
            XCTAssertEqual(exP.reduce(0, +), expectedExceed.reduce(0, +), accuracy: 2, "counts differ only where t is within rounding of the cut")
            XCTAssertGreaterThan(exP.reduce(0, +), 0)
        }
    }

    func testDoubleProductIsBitIdenticalOnBothPathsAndToAPlainLoop() throws {
        var gauss = StatsGaussian(seed: 17)
        let panelCount = 5, n = 31, w = PermutationKernel.blockWidth
        let panels = gauss.array(panelCount * n * 4)
        let y = gauss.array(n * w)
        var dispatched = [Double](repeating: .nan, count: panelCount * 4 * w)
        var portable = dispatched
        pipe_panel_gemm_f64(panels, Int32(panelCount), Int32(n), y, Int32(w), &dispatched)
        pipe_panel_gemm_f64_portable(panels, Int32(panelCount), Int32(n), y, Int32(w), &portable)
        XCTAssertEqual(dispatched.map(\.bitPattern), portable.map(\.bitPattern), "AVX2 in use: \(pipe_kernels_use_avx2() == 1)")
        var mismatches = 0, differFromFused = 0
        for p in 0..<panelCount {
            for r in 0..<4 {
                for col in 0..<w {
                    var sum = 0.0, fused = 0.0
                    for k in 0..<n {
                        sum = sum + panels[(p * n + k) * 4 + r] * y[k * w + col]
                        fused = fused.addingProduct(panels[(p * n + k) * 4 + r], y[k * w + col])
                    }
                    if portable[(p * 4 + r) * w + col].bitPattern != sum.bitPattern { mismatches += 1 }
                    if portable[(p * 4 + r) * w + col].bitPattern != fused.bitPattern { differFromFused += 1 }
                }
            }
        }
        XCTAssertEqual(mismatches, 0, "each element is the in-order sum of separate products")
        XCTAssertGreaterThan(differFromFused, 0, "a fused multiply-add rounds differently somewhere among these sums")
    }

    func testDoubleTPassIsBitIdenticalOnBothPathsAndMatchesTheFormula() throws {
        var gauss = StatsGaussian(seed: 23)
        let bCount = 5, rPer = 3, w = PermutationKernel.blockWidth
        var c = gauss.array(bCount * rPer * w).map { $0 * 0.3 }
        c[3] = 0.9; c[w + 3] = 0.5; c[2 * w + 3] = 0.1  // rss < 0
        c[4] = 1; c[w + 4] = 0; c[2 * w + 4] = 0        // rss = 0
        c[5] = .nan                                       // a NaN product never counts nor raises the max
        let cut = gauss.array(w).map { abs($0) * 2 }
        for twoSided in [true, false] {
            let (exP, maxP, tP) = bothTPasses(c, cut: cut, bCount: bCount, rPer: rPer, scale: 27, twoSided: twoSided,
                                               pipe_tpass_f64, pipe_tpass_f64_portable)
            var expectedExceed = [Double](repeating: 0, count: w)
            for b in 0..<bCount {
                var expectedMax = -Double.infinity
                for v in 0..<w {
                    let bb = c[b * rPer * w + v]
                    var rss = 1 - bb * bb
                    for r in 1..<rPer { let q = c[(b * rPer + r) * w + v]; rss = rss - q * q }
                    if rss <= 0 { rss = .infinity }
                    let t = bb * (27 / rss).squareRoot()
                    XCTAssertEqual(tP[b * w + v].bitPattern, t.bitPattern, "b \(b) voxel \(v)")
                    let st = twoSided ? abs(t) : t
                    if st > expectedMax { expectedMax = st }
                    if st >= cut[v] { expectedExceed[v] += 1 }
                }
                XCTAssertEqual(maxP[b], expectedMax)
            }
            XCTAssertEqual(tP[3], 0); XCTAssertEqual(tP[4], 0); XCTAssertTrue(tP[5].isNaN)
            XCTAssertEqual(exP, expectedExceed)
            XCTAssertGreaterThan(exP.reduce(0, +), 0)
        }
    }

    /// A t pass's signature in CKernels (Float32 or Double tile and cuts).
    typealias TPass<T> = (UnsafePointer<T>?, Int32, Int32, Int32, T, Int32, UnsafePointer<T>?, UnsafeMutablePointer<Double>?,
                          UnsafeMutablePointer<Double>?, UnsafeMutablePointer<Double>?, Int) -> Void

    /// Runs the dispatched t pass (AVX2 where the CPU has it) and the portable one on the same
    /// tile, asserts that their counts, maxima and t values agree bit for bit, and returns the
    /// portable path's.
    func bothTPasses<T>(_ c: [T], cut: [T], bCount: Int, rPer: Int, scale: T, twoSided: Bool,
                        _ dispatched: TPass<T>, _ portable: TPass<T>, line: UInt = #line) -> (exceed: [Double], max: [Double], t: [Double]) {
        let w = PermutationKernel.blockWidth
        var exA = [Double](repeating: 0, count: w), exP = exA
        var maxA = [Double](repeating: -.infinity, count: bCount), maxP = maxA
        var tA = [Double](repeating: .nan, count: bCount * w), tP = tA
        dispatched(c, Int32(bCount), Int32(rPer), Int32(w), scale, twoSided ? 1 : 0, cut, &exA, &maxA, &tA, w)
        portable(c, Int32(bCount), Int32(rPer), Int32(w), scale, twoSided ? 1 : 0, cut, &exP, &maxP, &tP, w)
        XCTAssertEqual(tA.map(\.bitPattern), tP.map(\.bitPattern), line: line)
        XCTAssertEqual(exA, exP, line: line)
        XCTAssertEqual(maxA.map(\.bitPattern), maxP.map(\.bitPattern), line: line)
        return (exP, maxP, tP)
    }
}
