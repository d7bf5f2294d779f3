/// One time series summarising the voxels of a seed region.
///
/// Input: the seed's voxel series as a T x n matrix (rows = time points), or a row-major T x V
/// buffer with the seed's column indices.
/// - `mean`: the unweighted mean over voxels per time point (nilearn maskers' `mean`).
/// - `eigenvariate`: the first principal component scaled like SPM's `spm_regions`:
///   with y the voxel series centred per voxel (SPM removes its confound space, which contains
///   the constant, before the SVD; here each column's mean is removed), y = U S Vᵀ,
///   Y = u₁ · √(s₁² / n) = u₁ s₁ / √n, and the sign flipped so that Σ v₁ > 0, i.e. so that Y
///   correlates positively with the voxels' mean. When Σ v₁ = 0 exactly SPM returns zeros
///   (sign(0) = 0); pipe keeps the + sign instead. u₁, s₁ come from a cyclic Jacobi
///   eigen-decomposition of the smaller Gram matrix (yᵀy or yyᵀ), as SPM's svd of the same.
public enum SeedSummary {
    /// Mean over the columns of `series` per row.
    public static func mean(_ series: Matrix) -> [Double] {
        (0..<series.rows).map { r in
            var s = 0.0
            for c in 0..<series.columns { s += series[r, c] }
            return series.columns > 0 ? s / Double(series.columns) : 0
        }
    }

    /// Gathers columns `columns` of a row-major T x V buffer into a T x n matrix.
    public static func gather<S: BinaryFloatingPoint>(_ data: [S], timePoints t: Int, columns: [Int]) throws -> Matrix {
        try data.withUnsafeBufferPointer { try gather($0, timePoints: t, columns: columns) }
    }

    /// `gather` from values in memory the caller owns (e.g. a mapped file).
    public static func gather<S: BinaryFloatingPoint>(_ data: UnsafeBufferPointer<S>, timePoints t: Int, columns: [Int]) throws -> Matrix {
        guard t >= 1, data.count % t == 0 else { throw SignalCleanError(.shapeMismatch, "\(data.count) values are not T = \(t) rows") }
        let v = data.count / t
        guard columns.allSatisfy({ $0 >= 0 && $0 < v }) else { throw SignalCleanError(.shapeMismatch, "seed column index outside 0..<\(v)") }
        var m = Matrix(rows: t, columns: columns.count)
        for r in 0..<t { for (j, c) in columns.enumerated() { m[r, j] = Double(data[r * v + c]) } }
        return m
    }

    /// SPM-style first eigenvariate of `series` (T x n). Returns zeros for an empty or all-constant seed.
    public static func eigenvariate(_ series: Matrix) -> [Double] {
        let t = series.rows, n = series.columns
        guard t > 0, n > 0 else { return [Double](repeating: 0, count: t) }
        var y = series
        for c in 0..<n {
            var m = 0.0
            for r in 0..<t { m += y[r, c] }
            m /= Double(t)
            for r in 0..<t { y[r, c] -= m }
        }
        var u = [Double](repeating: 0, count: t)
        var v = [Double](repeating: 0, count: n)
        var s1 = 0.0
        if t > n {
            // yᵀy (n x n) = V S² Vᵀ; u = y v / s.
            let g = gram(y, transposeFirst: true)
            let (lambda, vec) = topEigenpair(g)
            guard lambda > 0 else { return u }
            s1 = lambda.squareRoot()
            v = vec
            for r in 0..<t { var s = 0.0; for c in 0..<n { s += y[r, c] * v[c] }; u[r] = s / s1 }
        } else {
            let g = gram(y, transposeFirst: false)
            let (lambda, vec) = topEigenpair(g)
            guard lambda > 0 else { return u }
            s1 = lambda.squareRoot()
            u = vec
            for c in 0..<n { var s = 0.0; for r in 0..<t { s += y[r, c] * u[r] }; v[c] = s / s1 }
        }
        let sign: Double = v.reduce(0, +) < 0 ? -1 : 1
        let scale = sign * s1 / Double(n).squareRoot()
        return u.map { $0 * scale }
    }

    /// yᵀy (transposeFirst) or yyᵀ.
    static func gram(_ y: Matrix, transposeFirst: Bool) -> Matrix {
        let t = y.rows, n = y.columns
        let k = transposeFirst ? n : t
        var g = Matrix(rows: k, columns: k)
        for i in 0..<k {
            for j in i..<k {
                var s = 0.0
                if transposeFirst { for r in 0..<t { s += y[r, i] * y[r, j] } } else { for c in 0..<n { s += y[i, c] * y[j, c] } }
                g[i, j] = s
                g[j, i] = s
            }
        }
        return g
    }

    /// Largest eigenvalue and its unit eigenvector of a symmetric matrix (cyclic Jacobi).
    /// Complexity: O(k³) per sweep, typically < 10 sweeps.
    static func topEigenpair(_ a0: Matrix) -> (Double, [Double]) {
        let k = a0.rows
        var a = a0
        var vecs = Matrix.identity(k)
        for _ in 0..<60 {
            var off = 0.0, total = 0.0
            for i in 0..<k { for j in 0..<k { let x = a[i, j] * a[i, j]; total += x; if i != j { off += x } } }
            if off <= 1e-30 * total || off == 0 { break }
            for p in 0..<k {
                for q in (p + 1)..<max(p + 1, k) {
                    let apq = a[p, q]
                    if apq == 0 { continue }
                    let theta = (a[q, q] - a[p, p]) / (2 * apq)
                    let tt = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (tt * tt + 1).squareRoot(), s = tt * c
                    for r in 0..<k {
                        let arp = a[r, p], arq = a[r, q]
                        a[r, p] = c * arp - s * arq
                        a[r, q] = s * arp + c * arq
                    }
                    for r in 0..<k {
                        let apr = a[p, r], aqr = a[q, r]
                        a[p, r] = c * apr - s * aqr
                        a[q, r] = s * apr + c * aqr
                    }
                    for r in 0..<k {
                        let vrp = vecs[r, p], vrq = vecs[r, q]
                        vecs[r, p] = c * vrp - s * vrq
                        vecs[r, q] = s * vrp + c * vrq
                    }
                }
            }
        }
        var best = 0
        for i in 0..<k where a[i, i] > a[best, best] { best = i }
        return (a[best, best], vecs.column(best))
    }
}
