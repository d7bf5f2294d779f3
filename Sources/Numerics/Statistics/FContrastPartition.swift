/// Splits a full design X (n x p) and an F contrast C (q x p, full row rank) into a tested block
/// (n x q) and nuisance regressors for `PermutationTest.runF`, so that the F of the tested block
/// given the nuisance equals the GLM F of C: F = (Cβ)ᵀ[C(XᵀX)⁻¹Cᵀ]⁻¹(Cβ) / (q σ²)
/// (`GLMFit.fContrast`), with the same (q, n − p) degrees of freedom.
///
/// - q = 1: exactly `ContrastPartition(design:contrast:)` on the single row (a single non-zero
///   entry selects a column; a constant tested column then means sign flipping), so a one-row F
///   test is the two-sided t test of `PermutationTest.run` and F = t².
/// - q ≥ 2: the Beckmann & Smith (2001) / FSL randomise partition (Winkler et al. 2014,
///   NeuroImage 92, Appendix A): with D = (XᵀX)⁻¹ and M = C D Cᵀ,
///   tested T = X D Cᵀ M⁻¹ and nuisance Z = X C₀, where C₀ (p x (p − q)) is an orthonormal basis
///   of the null space of C. Then span[T, Z] = span X and Xβ = T (Cβ) + Z δ, so the coefficients
///   of T are exactly Cβ and the test of the T block given Z is the test of Cβ = 0.
///
/// `modelIntercept` must be false when running on the parts (the design already holds any
/// intercept); `options(from:)` sets it.
public struct FContrastPartition: Sendable {
    /// n x q tested regressors.
    public let tested: Matrix
    /// n x (p − q) nuisance regressors, or nil when q = p.
    public let confounds: Matrix?

    /// - Throws: `GLMError` for shape mismatch, a rank-deficient design, or a contrast matrix that
    ///   is zero or not of full row rank (`invalidContrast`).
    public init(design x: Matrix, contrast c: Matrix) throws {
        let n = x.rows, p = x.columns, q = c.rows
        guard c.columns == p, p > 0, q > 0 else {
            throw GLMError(.shapeMismatch, "F contrast is \(q)x\(c.columns) for a design with \(p) columns")
        }
        guard q <= p else { throw GLMError(.invalidContrast, "F contrast has \(q) rows for \(p) design columns") }
        if q == 1 {
            let part = try ContrastPartition(design: x, contrast: c.row(0))
            tested = Matrix(columns: [part.tested])
            confounds = part.confounds
            return
        }
        // Validates the design's rank (throws rankDeficientDesign) and gives D = (XᵀX)⁻¹.
        let d = try GLMFit(design: x, data: Matrix(rows: n, columns: 1)).unscaledCovariance
        // Orthonormal basis of C's row space (throws if C is rank deficient), then of its complement.
        let rows = Self.orthonormalized((0..<q).map(c.row))
        var basis = rows.basis
        if let r = rows.dependent {
            throw GLMError(.invalidContrast, "F contrast matrix is rank deficient (row \(r) is zero or a combination of the others)")
        }
        for e in 0..<p where basis.count < p {
            var unit = [Double](repeating: 0, count: p); unit[e] = 1
            let v = Self.orthogonalized(unit, against: basis)
            let nv = Self.norm(v)
            if nv > 1e-8 { basis.append(v.map { $0 / nv }) }
        }
        let complement = Array(basis.dropFirst(q))
        // T = X D Cᵀ M⁻¹.
        let dct = d * c.transposed           // p x q
        let m = c * dct                      // q x q, SPD
        let mInv = try Self.spdInverse(m)
        let t = x * (dct * mInv)             // n x q
        tested = t
        confounds = complement.isEmpty ? nil
            : Matrix(columns: complement.map { b in (0..<n).map { i in (0..<p).reduce(0) { $0 + x[i, $1] * b[$1] } } })
    }

    /// `options` with `modelIntercept = false` (the design already holds any intercept).
    public func options(from options: PermutationOptions) -> PermutationOptions {
        var o = options
        o.modelIntercept = false
        return o
    }

    static func norm(_ v: [Double]) -> Double { v.reduce(0) { $0 + $1 * $1 }.squareRoot() }

    /// The first row of an F contrast matrix that is zero or a combination of the rows before it
    /// (its part orthogonal to them under 1e-10 of its norm), which makes the matrix rank
    /// deficient; nil for independent rows. The rule the fit refuses by, and the spec check's.
    public static func firstDependentRow(_ rows: [[Double]]) -> Int? { orthonormalized(rows).dependent }

    /// An orthonormal basis of the rows' span, row by row (Gram–Schmidt, twice orthogonalised),
    /// up to the first row that is zero or a combination of those before it (`dependent`).
    static func orthonormalized(_ rows: [[Double]]) -> (basis: [[Double]], dependent: Int?) {
        var basis: [[Double]] = []
        for (r, row) in rows.enumerated() {
            let v = orthogonalized(row, against: basis)
            let n0 = norm(row), n1 = norm(v)
            guard n0 > 0, n1 > 1e-10 * n0 else { return (basis, r) }
            basis.append(v.map { $0 / n1 })
        }
        return (basis, nil)
    }

    /// v minus its projection on orthonormal `basis` (twice, for stability).
    static func orthogonalized(_ v: [Double], against basis: [[Double]]) -> [Double] {
        var r = v
        for _ in 0..<2 {
            for b in basis {
                let dot = zip(b, r).reduce(0) { $0 + $1.0 * $1.1 }
                for k in 0..<r.count { r[k] -= dot * b[k] }
            }
        }
        return r
    }

    /// Inverse of a symmetric positive definite matrix by Cholesky; throws `invalidContrast` if it
    /// is not numerically positive definite (C not of full row rank).
    static func spdInverse(_ m: Matrix) throws -> Matrix {
        let q = m.rows
        var l = Matrix(rows: q, columns: q)
        for i in 0..<q {
            for j in 0...i {
                var s = m[i, j]
                for k in 0..<j { s -= l[i, k] * l[j, k] }
                if i == j {
                    guard s > 1e-14 * max(1, m[i, i]) else { throw GLMError(.invalidContrast, "F contrast matrix is rank deficient") }
                    l[i, i] = s.squareRoot()
                } else { l[i, j] = s / l[j, j] }
            }
        }
        // Columns of the inverse: solve L Lᵀ x = e_j.
        var inv = Matrix(rows: q, columns: q)
        for j in 0..<q {
            var y = [Double](repeating: 0, count: q)
            for i in 0..<q {
                var s = i == j ? 1.0 : 0.0
                for k in 0..<i { s -= l[i, k] * y[k] }
                y[i] = s / l[i, i]
            }
            for i in stride(from: q - 1, through: 0, by: -1) {
                var s = y[i]
                for k in (i + 1)..<q { s -= l[k, i] * inv[k, j] }
                inv[i, j] = s / l[i, i]
            }
        }
        return inv
    }
}
