/// The F pass of the batched product (internal; the product itself is `PermutationKernel.multiply`).
///
/// Per relabeling the C tile holds R = q + k rows: the products of the q orthonormal tested
/// regressors (rows 0..<q) and the k orthonormal nuisance regressors with the residualised,
/// unit-norm data. Then SS_effect = Σ_{r<q} c_r², RSS = 1 − Σ_{r<R} c_r², and
/// F = (SS_effect / q) / (RSS / dfd), written as SS_effect · (dfd/q) / RSS. For q = 1 this is the
/// square of `tPass`'s t. Non-positive RSS (exact fits) gives F = 0, as t = 0 there.
extension PermutationKernel {
    @inline(__always)
    static func fPass(c: UnsafePointer<Double>, bCount: Int, rPer: Int, q: Int, scale: Double,
                      cut: UnsafePointer<Double>, exceed: UnsafeMutablePointer<Double>,
                      localMax: UnsafeMutablePointer<Double>, fOut: UnsafeMutablePointer<Double>?, fStride: Int) {
        let w = blockWidth
        let raw = UnsafeRawPointer(c)
        let scaleV = SIMD4<Double>(repeating: scale)
        let one = SIMD4<Double>(repeating: 1)
        for b in 0..<bCount {
            var mv = SIMD4<Double>(repeating: -.infinity)
            let base = b * rPer * w
            var col = 0
            while col < w {
                var ss = SIMD4<Double>()
                var r = 0
                while r < q {
                    let v = raw.loadUnaligned(fromByteOffset: (base + r * w + col) * 8, as: SIMD4<Double>.self)
                    ss += v * v
                    r += 1
                }
                var rss = one - ss
                while r < rPer {
                    let v = raw.loadUnaligned(fromByteOffset: (base + r * w + col) * 8, as: SIMD4<Double>.self)
                    rss -= v * v
                    r += 1
                }
                rss.replace(with: .infinity, where: rss .<= 0)
                let f = ss * scaleV / rss
                mv.replace(with: f, where: f .> mv)
                let cv = UnsafeRawPointer(cut + col).loadUnaligned(as: SIMD4<Double>.self)
                var ev = UnsafeRawPointer(exceed + col).loadUnaligned(as: SIMD4<Double>.self)
                ev.replace(with: ev + one, where: f .>= cv)
                UnsafeMutableRawPointer(exceed + col).storeBytes(of: ev, as: SIMD4<Double>.self)
                if let fOut { UnsafeMutableRawPointer(fOut + b * fStride + col).storeBytes(of: f, as: SIMD4<Double>.self) }
                col += 4
            }
            localMax[b] = max(localMax[b], mv.max())
        }
    }

    /// `fPass` on a Float32 product tile (F formed in Float32, widened to Double).
    @inline(__always)
    static func fPassFloat(c: UnsafePointer<Float>, bCount: Int, rPer: Int, q: Int, scale: Double,
                           cut: UnsafePointer<Float>, exceed: UnsafeMutablePointer<Double>,
                           localMax: UnsafeMutablePointer<Double>, fOut: UnsafeMutablePointer<Double>?, fStride: Int) {
        let w = blockWidth
        let raw = UnsafeRawPointer(c)
        let scaleV = SIMD8<Float>(repeating: Float(scale))
        let one = SIMD8<Float>(repeating: 1)
        for b in 0..<bCount {
            var mv = SIMD8<Float>(repeating: -.infinity)
            let base = b * rPer * w
            var col = 0
            while col < w {
                var ss = SIMD8<Float>()
                var r = 0
                while r < q {
                    let v = raw.loadUnaligned(fromByteOffset: (base + r * w + col) * 4, as: SIMD8<Float>.self)
                    ss += v * v
                    r += 1
                }
                var rss = one - ss
                while r < rPer {
                    let v = raw.loadUnaligned(fromByteOffset: (base + r * w + col) * 4, as: SIMD8<Float>.self)
                    rss -= v * v
                    r += 1
                }
                rss.replace(with: .infinity, where: rss .<= 0)
                let f = ss * scaleV / rss
                mv.replace(with: f, where: f .> mv)
                let cv = UnsafeRawPointer(cut + col).loadUnaligned(as: SIMD8<Float>.self)
                let hit = f .>= cv
                if any(hit) {
                    for l in 0..<8 where hit[l] { exceed[col + l] += 1 }
                }
                if let fOut {
                    for l in 0..<8 { fOut[b * fStride + col + l] = Double(f[l]) }
                }
                col += 8
            }
            localMax[b] = max(localMax[b], Double(mv.max()))
        }
    }
}
