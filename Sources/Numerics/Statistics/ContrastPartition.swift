/// Splits a full design X (n x p) and a t contrast c into a tested regressor and confounds for
/// `PermutationTest`, so that the t of the tested regressor given the confounds equals the GLM
/// contrast t = cᵀβ / se.
///
/// - If c selects one column j (a single non-zero entry): tested = sign(c_j)·X[:, j], confounds =
///   the other columns — nilearn's layout, so a contrast on a constant column (one-sample or
///   paired-difference designs, also with covariates) becomes a sign-flipping test, as in nilearn.
/// - Otherwise the Beckmann/Smith partition used by FSL randomise: tested x = X (XᵀX)⁻¹ c /
///   (cᵀ(XᵀX)⁻¹c), confounds Z = X·C₀ with C₀ an orthonormal basis of the complement of c in
///   ℝᵖ; span[x, Z] = span X and x carries exactly the contrast.
/// A tested regressor constant to 1e-12 relative is snapped to exactly constant (sign flipping).
/// `modelIntercept` must be false when running on the parts, since X already holds any intercept
/// (`options(from:)` sets it).
public struct ContrastPartition: Sendable {
    public let tested: [Double]
    /// n x (p − 1) confounds, or nil when p = 1.
    public let confounds: Matrix?

    /// - Throws: `GLMError` for shape mismatch, a zero contrast or a rank-deficient design.
    public init(design x: Matrix, contrast c: [Double]) throws {
        let n = x.rows, p = x.columns
        guard c.count == p, p > 0 else { throw GLMError(.shapeMismatch, "contrast has \(c.count) entries for \(p) columns") }
        let nonzero = (0..<p).filter { c[$0] != 0 }
        guard !nonzero.isEmpty else { throw GLMError(.invalidContrast, "contrast is zero") }
        // Validates rank (throws rankDeficientDesign) and gives (XᵀX)⁻¹.
        let fit = try GLMFit(design: x, data: Matrix(rows: n, columns: 1))
        var tested: [Double]
        var conf: Matrix?
        if nonzero.count == 1 {
            let j = nonzero[0], s: Double = c[j] > 0 ? 1 : -1
            tested = x.column(j).map { s * $0 }
            conf = p > 1 ? Matrix(columns: (0..<p).filter { $0 != j }.map { x.column($0) }) : nil
        } else {
            let q = fit.unscaledCovariance
            var qc = [Double](repeating: 0, count: p)
            for a in 0..<p { for b in 0..<p { qc[a] += q[a, b] * c[b] } }
            let cqc = zip(c, qc).reduce(0) { $0 + $1.0 * $1.1 }
            tested = (0..<n).map { i in (0..<p).reduce(0) { $0 + x[i, $1] * qc[$1] } / cqc }
            // Orthonormal complement of c by Gram–Schmidt on [c, e_0, …, e_{p−1}].
            var basis: [[Double]] = []
            let cn = c.reduce(0) { $0 + $1 * $1 }.squareRoot()
            basis.append(c.map { $0 / cn })
            for e in 0..<p where basis.count < p {
                var v = [Double](repeating: 0, count: p); v[e] = 1
                for _ in 0..<2 { for b in basis { let d = zip(b, v).reduce(0) { $0 + $1.0 * $1.1 }; for k in 0..<p { v[k] -= d * b[k] } } }
                let nv = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
                if nv > 1e-8 { basis.append(v.map { $0 / nv }) }
            }
            let comp = Array(basis.dropFirst())
            conf = comp.isEmpty ? nil : Matrix(columns: comp.map { b in (0..<n).map { i in (0..<p).reduce(0) { $0 + x[i, $1] * b[$1] } } })
        }
        let hi = tested.max()!, lo = tested.min()!
        if hi - lo <= 1e-12 * max(abs(hi), abs(lo)) { tested = [Double](repeating: tested[0], count: n) }
        self.tested = tested
        self.confounds = conf
    }

    /// `options` with `modelIntercept = false` (the design already holds any intercept).
    public func options(from options: PermutationOptions) -> PermutationOptions {
        var o = options
        o.modelIntercept = false
        return o
    }
}
