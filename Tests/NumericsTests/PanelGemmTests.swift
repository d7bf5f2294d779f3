import XCTest
import CKernels
@testable import Numerics

/// The permutation kernel's Float32 product: the AVX2 path and the portable path give the same
/// bits (so results do not depend on the CPU a task runs on), and both match a Double reference.
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
                       "AVX2 in use: \(pipe_panel_gemm_f32_uses_avx2() == 1)")
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
}
