/// Householder QR decomposition with column pivoting, A P = Q R (economic: Q is m x k, R is k x n,
/// k = min(m, n)), as LAPACK's dgeqp3 / scipy's `qr(..., pivoting=True, mode="economic")`.
///
/// Pivoting picks, at each step, the remaining column of largest norm, so |R_ii| decreases and the
/// numerical rank is the count of |R_ii| above a tolerance. nilearn's confound regression keeps
/// columns with |R_ii| > 100 * machine eps (float64: 2.22e-14); `rank(tolerance:)` takes that as
/// its default.
public struct QRDecomposition: Sendable {
    /// m x k with orthonormal columns.
    public let q: Matrix
    /// k x n upper triangular (in pivoted column order).
    public let r: Matrix
    /// `permutation[j]` is the original index of the j-th pivoted column.
    public let permutation: [Int]

    /// Decomposes `a` (m x n). Complexity: O(m n min(m, n)).
    public init(_ a: Matrix) {
        let m = a.rows, n = a.columns, k = min(m, n)
        var work = a
        var perm = Array(0..<n)
        var norms = (0..<n).map { c in (0..<m).reduce(0.0) { $0 + work[$1, c] * work[$1, c] } }
        var reflectors: [[Double]] = []
        for j in 0..<k {
            // Pivot: the remaining column of largest norm (recomputed exactly to avoid drift).
            for c in j..<n { norms[c] = (j..<m).reduce(0.0) { $0 + work[$1, c] * work[$1, c] } }
            var best = j
            for c in (j + 1)..<max(j + 1, n) where norms[c] > norms[best] { best = c }
            if best != j {
                for r in 0..<m { let t = work[r, j]; work[r, j] = work[r, best]; work[r, best] = t }
                perm.swapAt(j, best)
                norms.swapAt(j, best)
            }
            // Householder vector for column j, rows j..<m.
            var v = (j..<m).map { work[$0, j] }
            let alpha = v.reduce(0.0) { $0 + $1 * $1 }.squareRoot()
            if alpha == 0 {
                reflectors.append([Double](repeating: 0, count: v.count))
                continue
            }
            let sign: Double = v[0] >= 0 ? 1 : -1
            v[0] += sign * alpha
            let vnorm2 = v.reduce(0.0) { $0 + $1 * $1 }
            for c in j..<n {
                var dot = 0.0
                for i in 0..<v.count { dot += v[i] * work[j + i, c] }
                let f = 2 * dot / vnorm2
                for i in 0..<v.count { work[j + i, c] -= f * v[i] }
            }
            reflectors.append(v.map { $0 / vnorm2.squareRoot() })
        }
        var rr = Matrix(rows: k, columns: n)
        for i in 0..<k { for c in i..<n { rr[i, c] = work[i, c] } }
        // Q = H_0 H_1 ... H_{k-1} applied to the first k columns of the identity.
        var qq = Matrix(rows: m, columns: k)
        for i in 0..<k { qq[i, i] = 1 }
        for j in stride(from: reflectors.count - 1, through: 0, by: -1) {
            let v = reflectors[j]
            for c in 0..<k {
                var dot = 0.0
                for i in 0..<v.count { dot += v[i] * qq[j + i, c] }
                if dot == 0 { continue }
                for i in 0..<v.count { qq[j + i, c] -= 2 * dot * v[i] }
            }
        }
        q = qq
        r = rr
        permutation = perm
    }

    /// The number of |R_ii| above `tolerance` (default nilearn's 100 * eps).
    public func rank(tolerance: Double = 100 * Double.ulpOfOne) -> Int {
        (0..<min(r.rows, r.columns)).filter { abs(r[$0, $0]) > tolerance }.count
    }
}
