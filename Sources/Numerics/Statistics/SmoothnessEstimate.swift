import Foundation

/// Smoothness of a residual field, FSL `smoothest`-style, for parametric (GRF) cluster inference.
///
/// Method: each in-mask voxel's residuals (n samples) are demeaned and scaled to unit variance
/// (ddof = 1). Along each axis, over all pairs of face-adjacent in-mask voxels,
/// ρ = 1 − Σ(rᵥ − r_{v+1})² / (Σ rᵥ² + Σ r_{v+1}²) estimates the neighbour correlation;
/// σ² = −1 / (4 ln ρ) (voxels²) is the variance of the equivalent Gaussian smoothing kernel,
/// FWHM = √(8 ln 2 · σ²) voxels, and
/// DLH = (σx² σy² σz²)^(−½) · 8^(−½)   (= |Λ|^½, Λ = var of the field's gradient),
/// RESELS = FWHMx·FWHMy·FWHMz (voxels per resel).
///
/// Small-sample bias: ρ̂ from n standardised samples is biased low by ≈ ρ(1 − ρ²)/(2·dof); pipe
/// applies the first-order correction ρ = ρ̂·(1 + (1 − ρ̂²)/(2·dof)) with dof = the residual
/// degrees of freedom (default n − 1). Deliberate difference: FSL smoothest instead multiplies σ²
/// by a tabulated dof-dependent factor, so FWHM can differ from FSL by a few percent at small dof.
/// Not cross-checked against FSL (not available); validated on Gaussian-smoothed noise of known
/// FWHM. Use only to reproduce published parametric analyses ("as published").
public struct SmoothnessEstimate: Sendable, Equatable {
    /// Kernel σ² per axis (voxels²).
    public let sigmaSquared: (x: Double, y: Double, z: Double)
    /// FWHM per axis in voxels.
    public var fwhmVoxels: (x: Double, y: Double, z: Double) {
        let c = 8 * Foundation.log(2.0)
        return ((c * sigmaSquared.x).squareRoot(), (c * sigmaSquared.y).squareRoot(), (c * sigmaSquared.z).squareRoot())
    }
    /// DLH = |Λ|^½ per voxel³.
    public var dlh: Double { 1 / (sigmaSquared.x * sigmaSquared.y * sigmaSquared.z * 8).squareRoot() }
    /// Voxels per resel.
    public var reselSize: Double { let f = fwhmVoxels; return f.x * f.y * f.z }

    public static func == (a: SmoothnessEstimate, b: SmoothnessEstimate) -> Bool {
        a.sigmaSquared.x == b.sigmaSquared.x && a.sigmaSquared.y == b.sigmaSquared.y && a.sigmaSquared.z == b.sigmaSquared.z
    }

    /// Estimates smoothness from residuals (n x V over the in-mask voxels of `grid`).
    /// - Throws: `GLMError` for a shape mismatch or an axis without adjacent voxel pairs / ρ ≤ 0.
    /// - Parameter dof: residual degrees of freedom (n − rank X for GLM residuals); nil → n − 1.
    public init(residuals: Matrix, grid: MaskGrid, dof: Int? = nil) throws {
        let n = residuals.rows, v = residuals.columns
        let df = Double(dof ?? (n - 1))
        guard v == grid.count, n > 1 else { throw GLMError(.shapeMismatch, "residuals are \(n)x\(v) for \(grid.count) voxels") }
        // Standardise per voxel.
        var r = residuals.data
        for c in 0..<v {
            var mean = 0.0
            for i in 0..<n { mean += r[i * v + c] }
            mean /= Double(n)
            var ss = 0.0
            for i in 0..<n { let d = r[i * v + c] - mean; ss += d * d }
            let sd = (ss / Double(n - 1)).squareRoot()
            for i in 0..<n { r[i * v + c] = sd > 0 ? (r[i * v + c] - mean) / sd : 0 }
        }
        var sig = [0.0, 0.0, 0.0]
        for axis in 0..<3 {
            var diff = 0.0, sq = 0.0, pairs = 0
            for m in 0..<v {
                let (x, y, z) = grid.coordinates(of: m)
                let q = grid.maskIndex(x: x + (axis == 0 ? 1 : 0), y: y + (axis == 1 ? 1 : 0), z: z + (axis == 2 ? 1 : 0))
                guard let q else { continue }
                pairs += 1
                for i in 0..<n {
                    let a = r[i * v + m], b = r[i * v + q]
                    diff += (a - b) * (a - b); sq += a * a + b * b
                }
            }
            guard pairs > 0, sq > 0 else { throw GLMError(.invalidOption, "no adjacent voxel pairs along axis \(axis)") }
            let raw = 1 - diff / sq
            let rho = raw * (1 + (1 - raw * raw) / (2 * df))
            guard rho > 0, rho < 1 else { throw GLMError(.invalidOption, "neighbour correlation \(rho) along axis \(axis) is not in (0, 1)") }
            sig[axis] = -1 / (4 * Foundation.log(rho))
        }
        sigmaSquared = (sig[0], sig[1], sig[2])
    }
}
