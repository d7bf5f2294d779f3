import CKernels

/// The batched product at the heart of `PermutationTest` (internal).
///
/// For a batch of B relabelings, each with R transformed regressors (tested first, then
/// confounds), the stacked regressors A (B·R x n, padded to a multiple of 4 rows) multiply the
/// residualised, normalised data Y (n x V): C = A·Y, computed per block of 64 voxels in a
/// register-tiled 4-row x 8-voxel micro-kernel with SIMD4<Double> accumulators over the n
/// samples. Two precisions (chosen by `PermutationTest.usesFloat`):
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
    /// optionally stores t. Non-positive residual sums (exact fits) give t = 0.
    @inline(__always)
    static func tPass(c: UnsafePointer<Double>, bCount: Int, rPer: Int, scale: Double, twoSided: Bool,
                      cut: UnsafePointer<Double>, exceed: UnsafeMutablePointer<Double>,
                      localMax: UnsafeMutablePointer<Double>, tOut: UnsafeMutablePointer<Double>?, tStride: Int) {
        let w = blockWidth
        let raw = UnsafeRawPointer(c)
        let scaleV = SIMD4<Double>(repeating: scale)
        let one = SIMD4<Double>(repeating: 1)
        for b in 0..<bCount {
            var mv = SIMD4<Double>(repeating: -.infinity)
            let base = b * rPer * w
            var col = 0
            while col < w {
                let bb = raw.loadUnaligned(fromByteOffset: (base + col) * 8, as: SIMD4<Double>.self)
                var rss = one - bb * bb
                var r = 1
                while r < rPer {
                    let q = raw.loadUnaligned(fromByteOffset: (base + r * w + col) * 8, as: SIMD4<Double>.self)
                    rss = rss - q * q
                    r += 1
                }
                rss.replace(with: .infinity, where: rss .<= 0)
                let t = bb * (scaleV / rss).squareRoot()
                let st = twoSided ? t.replacing(with: -t, where: t .< 0) : t
                mv.replace(with: st, where: st .> mv)
                let cv = UnsafeRawPointer(cut + col).loadUnaligned(as: SIMD4<Double>.self)
                var ev = UnsafeRawPointer(exceed + col).loadUnaligned(as: SIMD4<Double>.self)
                ev.replace(with: ev + one, where: st .>= cv)
                UnsafeMutableRawPointer(exceed + col).storeBytes(of: ev, as: SIMD4<Double>.self)
                if let tOut { UnsafeMutableRawPointer(tOut + b * tStride + col).storeBytes(of: t, as: SIMD4<Double>.self) }
                col += 4
            }
            localMax[b] = max(localMax[b], mv.max())
        }
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

    /// C[panel rows x W] = A_panels · Yb, with Yb packed n x W (W = blockWidth).
    @inline(__always)
    static func multiply(panels: UnsafePointer<Double>, panelCount: Int, n: Int, yb: UnsafePointer<Double>, c: UnsafeMutablePointer<Double>) {
        let w = blockWidth
        let rawY = UnsafeRawPointer(yb)
        let rawC = UnsafeMutableRawPointer(c)
        for p in 0..<panelCount {
            let ap = panels + p * n * 4
            var col = 0
            while col < w {
                var c00 = SIMD4<Double>(), c01 = SIMD4<Double>()
                var c10 = SIMD4<Double>(), c11 = SIMD4<Double>()
                var c20 = SIMD4<Double>(), c21 = SIMD4<Double>()
                var c30 = SIMD4<Double>(), c31 = SIMD4<Double>()
                for k in 0..<n {
                    let y0 = rawY.loadUnaligned(fromByteOffset: (k * w + col) * 8, as: SIMD4<Double>.self)
                    let y1 = rawY.loadUnaligned(fromByteOffset: (k * w + col + 4) * 8, as: SIMD4<Double>.self)
                    let a0 = SIMD4<Double>(repeating: ap[k * 4])
                    let a1 = SIMD4<Double>(repeating: ap[k * 4 + 1])
                    let a2 = SIMD4<Double>(repeating: ap[k * 4 + 2])
                    let a3 = SIMD4<Double>(repeating: ap[k * 4 + 3])
                    c00 += a0 * y0; c01 += a0 * y1
                    c10 += a1 * y0; c11 += a1 * y1
                    c20 += a2 * y0; c21 += a2 * y1
                    c30 += a3 * y0; c31 += a3 * y1
                }
                let base = p * 4 * w + col
                rawC.storeBytes(of: c00, toByteOffset: (base) * 8, as: SIMD4<Double>.self)
                rawC.storeBytes(of: c01, toByteOffset: (base + 4) * 8, as: SIMD4<Double>.self)
                rawC.storeBytes(of: c10, toByteOffset: (base + w) * 8, as: SIMD4<Double>.self)
                rawC.storeBytes(of: c11, toByteOffset: (base + w + 4) * 8, as: SIMD4<Double>.self)
                rawC.storeBytes(of: c20, toByteOffset: (base + 2 * w) * 8, as: SIMD4<Double>.self)
                rawC.storeBytes(of: c21, toByteOffset: (base + 2 * w + 4) * 8, as: SIMD4<Double>.self)
                rawC.storeBytes(of: c30, toByteOffset: (base + 3 * w) * 8, as: SIMD4<Double>.self)
                rawC.storeBytes(of: c31, toByteOffset: (base + 3 * w + 4) * 8, as: SIMD4<Double>.self)
                col += 8
            }
        }
    }

    // MARK: Float32 variant

    /// Packs rows of A into 4-row Float panels [panel][k][4].
    static func packPanelsFloat(_ a: [Double], rows: Int, n: Int) -> [Float] {
        packPanels(a, rows: rows, n: n).map { Float($0) }
    }

    /// C = A·Yb in Float32 (accumulated in Float32), by `pipe_panel_gemm_f32` (CKernels): 8-wide
    /// AVX2 + FMA when the CPU has them, else a portable loop; each element is summed over k in
    /// order with fused multiply-adds (C's fmaf in the portable loop), so both paths give the same
    /// bits.
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
