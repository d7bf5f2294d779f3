import CKernels
import Foundation

/// Seed-based connectivity: exact Pearson r of a seed with every column of a T x V buffer, Fisher
/// z, ROI-to-ROI correlation matrices and partial correlation.
///
/// Data convention: row-major T x V (rows = time points), as `SignalClean`'s output.
///
/// - Pearson: r = Σ(x − x̄)(s − s̄) / √(Σ(x − x̄)² Σ(s − s̄)²), two-pass (means first), in Double,
///   clamped to [−1, 1] against rounding. This is the exact r — not nilearn's tutorial shortcut
///   dot(zscore(s), zscore(x)) / T, which equals r·(T−1)/T with `zscore_sample`.
/// - A constant column (Σ(x − x̄)² = 0), a constant seed, or a series with a NaN/Inf gives r = 0:
///   "no linear association measurable", and never a NaN in an output map.
/// - Fisher z = atanh(r) with |r| clamped to 1 − 1e-7 first (z ≤ 8.406): the seed's own voxels
///   correlate with a seed mean at r = 1 exactly when the seed is one voxel, giving z = ∞; the
///   clamp keeps maps finite while changing no z with |r| < 1 − 1e-7 (|z| < 8.4, far beyond any
///   real fMRI correlation). DPABI does not clip; AFNI 3dNetCorr caps z at 4.
public enum SeedCorrelation {
    /// The |r| bound applied before atanh.
    public static let fisherClamp = 1 - 1e-7

    /// Fisher z = atanh(clamp(r)); NaN maps to 0.
    @inline(__always)
    public static func fisherZ(_ r: Double) -> Double {
        if r.isNaN { return 0 }
        return atanh(min(max(r, -fisherClamp), fisherClamp))
    }

    /// Pearson r of `seed` (length T) with each of the V columns of `data` (row-major T x V float32).
    /// Complexity: O(T·V), parallel over column blocks.
    public static func pearson(seed: [Double], data: [Float], timePoints t: Int) throws -> [Double] {
        try data.withUnsafeBufferPointer { try pearsonKernel(seeds: [seed], data: $0, timePoints: t)[0] }
    }

    /// Pearson r of `seed` with each column of a row-major T x V Double buffer.
    public static func pearson(seed: [Double], data: [Double], timePoints t: Int) throws -> [Double] {
        try data.withUnsafeBufferPointer { try pearsonKernel(seeds: [seed], data: $0, timePoints: t)[0] }
    }

    /// Pearson r of each of `seeds` with each column of `data` (row-major T x V float32), in one
    /// pass over the data: the columns' means and sums of squares are shared by the seeds. Each
    /// r is computed exactly as by `pearson(seed:data:timePoints:)` (same operations, same order).
    /// - Returns: one array of V values per seed.
    public static func pearson(seeds: [[Double]], data: [Float], timePoints t: Int) throws -> [[Double]] {
        try data.withUnsafeBufferPointer { try pearsonKernel(seeds: seeds, data: $0, timePoints: t) }
    }

    /// `pearson(seeds:data:timePoints:)` on float32 values in memory the caller owns (e.g. a mapped file).
    public static func pearson(seeds: [[Double]], data: UnsafeBufferPointer<Float>, timePoints t: Int) throws -> [[Double]] {
        try pearsonKernel(seeds: seeds, data: data, timePoints: t)
    }

    static func pearsonKernel<S: BinaryFloatingPoint & Sendable>(seeds: [[Double]], data src: UnsafeBufferPointer<S>, timePoints t: Int) throws -> [[Double]] {
        let data = src
        guard t >= 1, seeds.allSatisfy({ $0.count == t }), data.count % t == 0 else {
            throw SignalCleanError(.shapeMismatch, "seeds of length \(seeds.map(\.count)) and \(data.count) values are not T = \(t) rows")
        }
        let v = data.count / t
        var out = [[Double]](repeating: [Double](repeating: 0, count: v), count: seeds.count)
        // Centred seeds and their norms; a constant or non-finite seed keeps its map at 0.
        let centred = seeds.map { seed in
            let mean = seed.reduce(0, +) / Double(t)
            return seed.map { $0 - mean }
        }
        let norms = centred.map { $0.reduce(0) { $0 + $1 * $1 }.squareRoot() }
        let live = seeds.indices.filter { norms[$0] > 0 && norms[$0].isFinite }
        guard !live.isEmpty else { return out }
        let m = live.count
        let flatSeeds = live.flatMap { centred[$0] }   // seed-major: flatSeeds[k·t + r]
        let width = 256
        let blocks = (v + width - 1) / width
        var maps = [Double](repeating: 0, count: m * v)
        do {
            maps.withUnsafeMutableBufferPointer { dst in
              flatSeeds.withUnsafeBufferPointer { seedBuffer in
                let seedPointer = SignalUnsafeSendable(pointer: seedBuffer.baseAddress!)
                let sp = SignalUnsafeSendable(pointer: src.baseAddress!), dp = SignalUnsafeSendable(pointer: dst.baseAddress!)
                let tasks = Parallel.workers(for: blocks)
                let next = BlockCounter()   // blocks dealt to whichever thread is free
                DispatchQueue.concurrentPerform(iterations: tasks) { _ in
                    let mean = UnsafeMutablePointer<Double>.allocate(capacity: width)
                    let sxx = UnsafeMutablePointer<Double>.allocate(capacity: width)
                    let sxy = UnsafeMutablePointer<Double>.allocate(capacity: width * m)
                    let d = UnsafeMutablePointer<Double>.allocate(capacity: width)
                    defer { for p in [mean, sxx, sxy, d] { p.deallocate() } }
                    while true {
                        let b = next.take()
                        guard b < blocks else { break }
                        let c0 = b * width, w = min(width, v - c0)
                        if S.self == Float.self {
                            // The same sums in C, four columns at a time (AVX2 where the CPU has it).
                            pipe_pearson_block(UnsafeRawPointer(sp.pointer + c0).assumingMemoryBound(to: Float.self), v, t, w,
                                               seedPointer.pointer, Int32(m), mean, sxx, sxy)
                        } else {
                            mean.update(repeating: 0, count: w)
                            sxx.update(repeating: 0, count: w)
                            sxy.update(repeating: 0, count: w * m)
                            for r in 0..<t { let row = sp.pointer + r * v + c0; for j in 0..<w { mean[j] += Double(row[j]) } }
                            for j in 0..<w { mean[j] /= Double(t) }
                            for r in 0..<t {
                                let row = sp.pointer + r * v + c0
                                for j in 0..<w {
                                    let x = Double(row[j]) - mean[j]
                                    d[j] = x
                                    sxx[j] += x * x
                                }
                                for k in 0..<m {
                                    let s = seedPointer.pointer[k * t + r], acc = sxy + k * w
                                    for j in 0..<w { acc[j] += d[j] * s }
                                }
                            }
                        }
                        for k in 0..<m {
                            let norm = norms[live[k]], acc = sxy + k * w, map = dp.pointer + k * v + c0
                            for j in 0..<w {
                                let denominator = sxx[j].squareRoot() * norm
                                var r = denominator > 0 ? acc[j] / denominator : 0
                                if !r.isFinite { r = 0 }
                                map[j] = min(1, max(-1, r))
                            }
                        }
                    }
                }
              }
            }
        }
        for (k, seed) in live.enumerated() { out[seed] = Array(maps[(k * v)..<((k + 1) * v)]) }
        return out
    }

    /// The R x R Pearson correlation matrix of the columns of `series` (T x R), e.g. ROI mean
    /// series. The diagonal is 1; a constant ROI has r = 0 with everything, itself included.
    public static func correlationMatrix(_ series: Matrix) -> Matrix {
        let t = series.rows, m = series.columns
        var centered = series
        var norms = [Double](repeating: 0, count: m)
        for c in 0..<m {
            var mean = 0.0
            for r in 0..<t { mean += series[r, c] }
            mean /= Double(max(t, 1))
            for r in 0..<t { centered[r, c] -= mean; norms[c] += centered[r, c] * centered[r, c] }
            norms[c] = norms[c].squareRoot()
        }
        var out = Matrix(rows: m, columns: m)
        for i in 0..<m {
            for j in i..<m {
                var r = 0.0
                if norms[i] > 0 && norms[j] > 0 && norms[i].isFinite && norms[j].isFinite {
                    if i == j { r = 1 } else {
                        var s = 0.0
                        for k in 0..<t { s += centered[k, i] * centered[k, j] }
                        r = min(1, max(-1, s / (norms[i] * norms[j])))
                    }
                }
                out[i, j] = r
                out[j, i] = r
            }
        }
        return out
    }

    /// Partial correlation of each seed with every column of `data`, controlling for the other
    /// seeds: seed i and each voxel series are residualised on [1, the other seeds] by least
    /// squares, then correlated (Pearson of the residuals).
    ///
    /// With one seed this is the plain Pearson r. Seeds that are collinear with the others leave
    /// a zero residual and give r = 0. Complexity: O(m · T · V · m) for m seeds.
    /// - Returns: m arrays of V values.
    public static func partialCorrelation(seeds: Matrix, data: [Float], timePoints t: Int) throws -> [[Double]] {
        try data.withUnsafeBufferPointer { try partialKernel(seeds: seeds, data: $0, timePoints: t) }
    }

    /// Partial correlation on float32 values in memory the caller owns (e.g. a mapped file).
    public static func partialCorrelation(seeds: Matrix, data: UnsafeBufferPointer<Float>, timePoints t: Int) throws -> [[Double]] {
        try partialKernel(seeds: seeds, data: data, timePoints: t)
    }

    /// Partial correlation on a row-major T x V Double buffer (see the float32 overload).
    public static func partialCorrelation(seeds: Matrix, data: [Double], timePoints t: Int) throws -> [[Double]] {
        try data.withUnsafeBufferPointer { try partialKernel(seeds: seeds, data: $0, timePoints: t) }
    }

    static func partialKernel<S: BinaryFloatingPoint & Sendable>(seeds: Matrix, data src: UnsafeBufferPointer<S>, timePoints t: Int) throws -> [[Double]] {
        let data = src
        guard seeds.rows == t, t >= 1, data.count % t == 0 else {
            throw SignalCleanError(.shapeMismatch, "seeds (\(seeds.rows) rows) and data (\(data.count) values) are not T = \(t) rows")
        }
        let m = seeds.columns, v = data.count / t
        var results: [[Double]] = []
        for i in 0..<m {
            // Orthonormal basis of [1, other seeds] (pivoted QR, rank by nilearn's 100 ε rule).
            var design = Matrix(rows: t, columns: m, repeating: 1)
            var col = 1
            for k in 0..<m where k != i { for r in 0..<t { design[r, col] = seeds[r, k] }; col += 1 }
            let qr = QRDecomposition(design)
            let keep = (0..<min(qr.r.rows, qr.r.columns)).filter { abs(qr.r[$0, $0]) > 100 * Double.ulpOfOne * max(1, abs(qr.r[0, 0])) }
            let basis = keep.map { qr.q.column($0) }
            func residual(_ y: [Double]) -> [Double] {
                var e = y
                for q in basis {
                    var d = 0.0
                    for r in 0..<t { d += q[r] * e[r] }
                    for r in 0..<t { e[r] -= d * q[r] }
                }
                return e
            }
            let seedResidual = residual(seeds.column(i))
            let eNorm = seedResidual.reduce(0) { $0 + $1 * $1 }.squareRoot()
            var out = [Double](repeating: 0, count: v)
            // Residualising the voxels is equivalent to projecting them off the same basis; since
            // the seed residual is orthogonal to the basis, <e, x_res> = <e, x> and
            // ‖x_res‖² = ‖x‖² − Σ_k <q_k, x>² (the intercept is in the basis). Two-pass per block.
            if eNorm > 1e-12 * max(1, seeds.column(i).reduce(0) { max($0, abs($1)) }) * Double(t).squareRoot() {
                let nb = basis.count
                let flatBasis = basis.flatMap { $0 }
                do {
                    out.withUnsafeMutableBufferPointer { dst in
                        let sp = SignalUnsafeSendable(pointer: src.baseAddress!), dp = SignalUnsafeSendable(pointer: dst.baseAddress!)
                        let width = 128
                        let blocks = (v + width - 1) / width
                        let tasks = Parallel.workers(for: blocks)
                        DispatchQueue.concurrentPerform(iterations: tasks) { task in
                            var proj = [Double](repeating: 0, count: nb * width)
                            var mean = [Double](repeating: 0, count: width), sxx = mean, sxe = mean
                            var b = task
                            while b < blocks {
                                let c0 = b * width, w = min(width, v - c0)
                                for j in 0..<w { mean[j] = 0; sxx[j] = 0; sxe[j] = 0 }
                                // proj is laid out k * width + j: zero every row of the block (a partial last
                                // block must not keep the previous block's sums).
                                for k in 0..<nb { for j in 0..<w { proj[k * width + j] = 0 } }
                                // Centre first (the intercept is in the basis, so this changes nothing but rounding).
                                for r in 0..<t { let row = sp.pointer + r * v + c0; for j in 0..<w { mean[j] += Double(row[j]) } }
                                for j in 0..<w { mean[j] /= Double(t) }
                                for r in 0..<t {
                                    let row = sp.pointer + r * v + c0, e = seedResidual[r]
                                    for j in 0..<w {
                                        let x = Double(row[j]) - mean[j]
                                        sxx[j] += x * x
                                        sxe[j] += x * e
                                    }
                                    for k in 0..<nb {
                                        let q = flatBasis[k * t + r]
                                        for j in 0..<w { proj[k * width + j] += q * (Double(row[j]) - mean[j]) }
                                    }
                                }
                                for j in 0..<w {
                                    var rss = sxx[j]
                                    for k in 0..<nb { rss -= proj[k * width + j] * proj[k * width + j] }
                                    let denominator = max(rss, 0).squareRoot() * eNorm
                                    var r = denominator > 1e-12 * sxx[j].squareRoot() * eNorm && denominator > 0 ? sxe[j] / denominator : 0
                                    if !r.isFinite { r = 0 }
                                    dp.pointer[c0 + j] = min(1, max(-1, r))
                                }
                                b += tasks
                            }
                        }
                    }
                }
            }
            results.append(out)
        }
        return results
    }
}
