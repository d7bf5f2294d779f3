import CKernels

/// The batched product at the heart of `PermutationTest` (internal).
///
/// For a batch of B relabelings, each with R transformed regressors (tested first, then
/// confounds), the stacked regressors A (B·R x n, padded to a multiple of 4 rows) multiply the
/// residualised, normalised data Y (n x V): C = A·Y, computed per block of 64 voxels in a
/// register-tiled 4-row micro-kernel over the n samples (CKernels' PanelGemm.c). Two precisions
/// (chosen by `PermutationTest.usesFloat`):
/// - Double (`multiply`, `tPass`; the F pass in PermutationKernelF.swift): accumulated in Double,
///   t values match a float64 reference to ~1e-15 relative, so exhaustive p-values agree exactly.
///   Exhaustive nulls always use it.
/// - Float32 (`multiplyFloat`, `tPassFloat`, `fPassFloat`; see "Float32 variant" below): data and
///   products in Float32, statistics widened to Double. Half the memory traffic, but t moves by
///   ~1e-7 relative, which breaks ties between mirror relabelings; used for large random nulls
///   (`precision` automatic) or when asked for.
struct PermutationKernel {
    static let blockWidth = 64

    /// The t pass for one block: for each relabeling b, t = b₀·√(scale/(1 − Σ_{r≥1} c_r² − b₀²))
    /// per voxel; updates the running max of |t| (or t), counts voxels with stat ≥ cut, and
    /// optionally stores t. Non-positive residual sums (exact fits) give t = 0. By `pipe_tpass_f64`
    /// (CKernels): 4-wide AVX2 when the CPU has it, else a portable loop with the same bits.
    @inline(__always)
    static func tPass(c: UnsafePointer<Double>, bCount: Int, rPer: Int, scale: Double, twoSided: Bool,
                      cut: UnsafePointer<Double>, exceed: UnsafeMutablePointer<Double>,
                      localMax: UnsafeMutablePointer<Double>, tOut: UnsafeMutablePointer<Double>?, tStride: Int) {
        pipe_tpass_f64(c, Int32(bCount), Int32(rPer), Int32(blockWidth), scale, twoSided ? 1 : 0, cut, exceed, localMax, tOut, tStride)
    }

    /// Packs rows of A (rows x n, row-major) into 4-row panels laid out [panel][k][4].
    static func packPanels(_ a: [Double], rows: Int, n: Int) -> [Double] {
        let panels = (rows + 3) / 4
        var out = [Double](repeating: 0, count: panels * n * 4)
        for r in 0..<rows {
            let p = r / 4, lane = r % 4
            for k in 0..<n { out[(p * n + k) * 4 + lane] = a[r * n + k] }
        }
        return out
    }

    /// C[panel rows x W] = A_panels · Yb, with Yb packed n x W (W = blockWidth), by
    /// `pipe_panel_gemm_f64` (CKernels): a 4-row x 8-voxel tile of AVX2 accumulators when the CPU
    /// has AVX2, else a portable loop; each element is summed over k in order with separate
    /// multiplies and adds, so both paths give the bits of a plain loop.
    @inline(__always)
    static func multiply(panels: UnsafePointer<Double>, panelCount: Int, n: Int, yb: UnsafePointer<Double>, c: UnsafeMutablePointer<Double>) {
        pipe_panel_gemm_f64(panels, Int32(panelCount), Int32(n), yb, Int32(blockWidth), c)
    }

    // MARK: Float32 variant

    /// Packs rows of A into 4-row Float panels [panel][k][4].
    static func packPanelsFloat(_ a: [Double], rows: Int, n: Int) -> [Float] {
        packPanels(a, rows: rows, n: n).map { Float($0) }
    }

    /// C = A·Yb in Float32 (accumulated in Float32), by `pipe_panel_gemm_f32` (CKernels): a
    /// 4-row × 64-voxel AVX-512 tile or a 4 × 16 AVX2 + FMA tile, whichever the CPU has, else a
    /// portable loop; each element is summed over k in order with fused multiply-adds (C's fmaf in
    /// the portable loop), so every path gives the same bits.
    @inline(__always)
    static func multiplyFloat(panels: UnsafePointer<Float>, panelCount: Int, n: Int, yb: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>) {
        pipe_panel_gemm_f32(panels, Int32(panelCount), Int32(n), yb, Int32(blockWidth), c)
    }

    /// The t pass of `tPass` on a Float32 product tile (t formed in Float32, widened to Double), by
    /// `pipe_tpass_f32` (CKernels): 8-wide AVX2 when the CPU has it, else a portable loop with the
    /// same bits.
    @inline(__always)
    static func tPassFloat(c: UnsafePointer<Float>, bCount: Int, rPer: Int, scale: Double, twoSided: Bool,
                           cut: UnsafePointer<Float>, exceed: UnsafeMutablePointer<Double>,
                           localMax: UnsafeMutablePointer<Double>, tOut: UnsafeMutablePointer<Double>?, tStride: Int) {
        pipe_tpass_f32(c, Int32(bCount), Int32(rPer), Int32(blockWidth), Float(scale), twoSided ? 1 : 0,
                       cut, exceed, localMax, tOut, tStride)
    }
}
