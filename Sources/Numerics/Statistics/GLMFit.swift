import Dispatch
import Foundation

/// An ordinary-least-squares fit of one design to many targets (mass-univariate GLM).
///
/// Data convention: **samples x targets** — `data` is n x V (one row per subject/map, one column per
/// voxel), `design` is n x p. Model Y = X β + ε, fitted for every column independently:
/// - β = R⁻¹ Qᵀ Y from the pivoted Householder QR of X (no normal equations);
/// - residuals e = Y − Q(QᵀY), formed explicitly (no ‖Y‖² − ‖QᵀY‖² cancellation);
/// - σ² = eᵀe / df with df = n − rank(X).
///
/// A design whose numerical rank (|R_ii| > max(n, p)·eps·|R_00|, numpy `matrix_rank`'s default)
/// is below p is rejected with `GLMError.Code.rankDeficientDesign`; nilearn's `permuted_ols`
/// and `SecondLevelModel` silently use a pseudo-inverse instead — pipe deliberately refuses.
///
/// Targets fitted exactly up to rounding (rss ≤ (n·1e-14·max|y|)², e.g. constant voxels outside
/// the brain) get σ² = 0, so their t is ±∞ or NaN rather than a huge finite number.
///
/// Complexity: O(n p V) time, O(p V) memory; parallel over blocks of 512 columns with Double
/// accumulation throughout.
public struct GLMFit: Sendable {
    /// p x V coefficients.
    public let betas: Matrix
    /// Residual variance σ² per target (length V); NaN for df = 0 is impossible (rejected).
    public let residualVariance: [Double]
    /// Residual degrees of freedom n − rank(X).
    public let residualDF: Int
    /// (XᵀX)⁻¹, p x p.
    public let unscaledCovariance: Matrix

    /// Fits `design` (n x p) to `data` (n x V).
    /// - Throws: `GLMError` for shape mismatch, rank deficiency, or n ≤ p.
    public init(design: Matrix, data: Matrix) throws {
        let n = design.rows, p = design.columns, v = data.columns
        guard data.rows == n, p > 0 else {
            throw GLMError(.shapeMismatch, "design is \(n)x\(p) but data has \(data.rows) rows")
        }
        let qr = QRDecomposition(design)
        let r00 = abs(qr.r[0, 0])
        let tol = Double(max(n, p)) * Double.ulpOfOne * r00
        let rank = qr.rank(tolerance: tol)
        guard rank == p, r00 > 0 else {
            throw GLMError(.rankDeficientDesign, "design matrix has rank \(rank) < \(p) columns")
        }
        guard n - p > 0 else {
            throw GLMError(.noResidualDegreesOfFreedom, "\(n) samples leave no residual degrees of freedom for \(p) columns")
        }
        // R⁻¹ (upper triangular, p x p), pivoted order.
        var rinv = Matrix(rows: p, columns: p)
        for j in 0..<p {
            rinv[j, j] = 1 / qr.r[j, j]
            for i in stride(from: j - 1, through: 0, by: -1) {
                var s = 0.0
                for k in (i + 1)...j { s += qr.r[i, k] * rinv[k, j] }
                rinv[i, j] = -s / qr.r[i, i]
            }
        }
        // (XᵀX)⁻¹ = P R⁻¹ R⁻ᵀ Pᵀ.
        var cov = Matrix(rows: p, columns: p)
        for a in 0..<p {
            for b in 0..<p {
                var s = 0.0
                for k in max(a, b)..<p { s += rinv[a, k] * rinv[b, k] }
                cov[qr.permutation[a], qr.permutation[b]] = s
            }
        }
        var betas = Matrix(rows: p, columns: v)
        var rss = [Double](repeating: 0, count: v)
        let q = qr.q
        let rinvC = rinv
        let perm = qr.permutation
        let block = 512
        let nBlocks = (v + block - 1) / block
        data.data.withUnsafeBufferPointer { yBuf in
            betas.data.withUnsafeMutableBufferPointer { bBuf in
                rss.withUnsafeMutableBufferPointer { rBuf in
                    let y = StatsSendablePointer(UnsafeMutablePointer(mutating: yBuf.baseAddress!))
                    let bp = StatsSendablePointer(bBuf.baseAddress!)
                    let rp = StatsSendablePointer(rBuf.baseAddress!)
                    Parallel.forEach(nBlocks) { blk in
                        let c0 = blk * block, w = min(block, v - c0)
                        var qty = [Double](repeating: 0, count: p * w)
                        var res = [Double](repeating: 0, count: w)
                        for i in 0..<n {
                            let row = y.base + i * v + c0
                            for j in 0..<p {
                                let qij = q[i, j]
                                for c in 0..<w { qty[j * w + c] += qij * row[c] }
                            }
                        }
                        var scale = [Double](repeating: 0, count: w)
                        for i in 0..<n {
                            let row = y.base + i * v + c0
                            for c in 0..<w { res[c] = row[c]; scale[c] = max(scale[c], abs(row[c])) }
                            for j in 0..<p {
                                let qij = q[i, j]
                                for c in 0..<w { res[c] -= qij * qty[j * w + c] }
                            }
                            for c in 0..<w { rp[c0 + c] += res[c] * res[c] }
                        }
                        // A target fitted exactly up to rounding (e.g. a constant voxel) gets σ² = 0.
                        for c in 0..<w {
                            let floor = Double(n) * 1e-14 * scale[c]
                            if rp[c0 + c] <= floor * floor { rp[c0 + c] = 0 }
                        }
                        // β (pivoted) = R⁻¹ QᵀY, then unpivot.
                        for a in 0..<p {
                            let dst = perm[a]
                            for c in 0..<w {
                                var s = 0.0
                                for k in a..<p { s += rinvC[a, k] * qty[k * w + c] }
                                bp[dst * v + c0 + c] = s
                            }
                        }
                    }
                }
            }
        }
        let df = n - p
        self.betas = betas
        self.residualVariance = rss.map { $0 / Double(df) }
        self.residualDF = df
        self.unscaledCovariance = cov
    }

    /// The t contrast cᵀβ / √(σ² cᵀ(XᵀX)⁻¹c) for every target.
    /// - Throws: `GLMError` if `contrast.count != p` or the contrast is zero.
    /// - Returns: estimate, standard error and t per target; σ² = 0 gives t = ±∞ (or NaN for 0/0).
    public func tContrast(_ contrast: [Double]) throws -> TContrastMaps {
        let p = betas.rows, v = betas.columns
        guard contrast.count == p else { throw GLMError(.shapeMismatch, "contrast has \(contrast.count) entries for \(p) columns") }
        var cvc = 0.0
        for a in 0..<p { for b in 0..<p { cvc += contrast[a] * unscaledCovariance[a, b] * contrast[b] } }
        guard cvc > 0 else { throw GLMError(.invalidContrast, "contrast is zero") }
        var est = [Double](repeating: 0, count: v)
        for a in 0..<p where contrast[a] != 0 {
            let ca = contrast[a]
            for c in 0..<v { est[c] += ca * betas.data[a * v + c] }
        }
        var se = [Double](repeating: 0, count: v), t = [Double](repeating: 0, count: v)
        for c in 0..<v {
            se[c] = (residualVariance[c] * cvc).squareRoot()
            t[c] = est[c] / se[c]
        }
        return TContrastMaps(estimate: est, standardError: se, t: t, df: residualDF)
    }

    /// The F statistic of a contrast matrix C (q x p) for every target:
    /// F = (Cβ)ᵀ [C (XᵀX)⁻¹ Cᵀ]⁻¹ (Cβ) / (q σ²), with (q, df) degrees of freedom.
    /// - Throws: `GLMError` for a shape mismatch or a rank-deficient C (X⁻X)⁻¹ Cᵀ.
    public func fContrast(_ contrast: Matrix) throws -> [Double] {
        let p = betas.rows, v = betas.columns, qn = contrast.rows
        guard contrast.columns == p, qn > 0 else { throw GLMError(.shapeMismatch, "F contrast has \(contrast.columns) columns for \(p)") }
        let m = contrast * unscaledCovariance * contrast.transposed
        // Cholesky of m (q x q, SPD when C has full row rank).
        var l = Matrix(rows: qn, columns: qn)
        for i in 0..<qn {
            for j in 0...i {
                var s = m[i, j]
                for k in 0..<j { s -= l[i, k] * l[j, k] }
                if i == j {
                    guard s > 1e-14 * max(1, m[i, i]) else {
                        throw GLMError(.invalidContrast, "F contrast matrix is rank deficient")
                    }
                    l[i, i] = s.squareRoot()
                } else { l[i, j] = s / l[j, j] }
            }
        }
        let cb = contrast * betas  // q x V
        var f = [Double](repeating: 0, count: v)
        var z = [Double](repeating: 0, count: qn)
        for c in 0..<v {
            // Solve L z = Cβ; quadratic form = ‖z‖².
            var ss = 0.0
            for i in 0..<qn {
                var s = cb[i, c]
                for k in 0..<i { s -= l[i, k] * z[k] }
                z[i] = s / l[i, i]
                ss += z[i] * z[i]
            }
            f[c] = ss / (Double(qn) * residualVariance[c])
        }
        return f
    }
}
