import Foundation

/// Parametric cluster-extent p-values from Gaussian random field theory (Friston et al. 1994,
/// as FSL `cluster` and SPM's cluster-level p), offered only to reproduce published analyses —
/// Eklund et al. 2016 found FWE up to 70% at a cluster-forming p of 0.01. Default to permutation.
///
/// For a z threshold u over a search volume of V voxels with smoothness DLH (per voxel):
/// - E[m] = V · DLH · (2π)⁻² · (u² − 1) · e^(−u²/2)   (expected number of clusters, Euler char.);
/// - E[N] = V · Φ(−u)                                  (expected supra-threshold voxels);
/// - β = (Γ(5/2) · E[m] / E[N])^(2/3);  P(size ≥ k) = exp(−β k^(2/3));
/// - cluster FWE p = 1 − exp(−E[m] · P(size ≥ k)).
/// Edge cases: u ≤ 1 makes E[m] ≤ 0 (the approximation fails) → p = 1.
public enum GaussianRandomFieldClusters {
    /// FWE p of a cluster of `size` voxels at z threshold `zThreshold`.
    public static func clusterP(size: Double, zThreshold u: Double, searchVolume v: Double, dlh: Double) -> Double {
        let em = v * dlh * Foundation.pow(2 * Double.pi, -2) * (u * u - 1) * Foundation.exp(-u * u / 2)
        guard em > 0, size > 0 else { return 1 }
        let en = v * NormalDistribution.sf(u)
        let beta = Foundation.pow(Foundation.tgamma(2.5) * em / en, 2.0 / 3.0)
        let pn = Foundation.exp(-beta * Foundation.pow(size, 2.0 / 3.0))
        return -Foundation.expm1(-em * pn)
    }

    /// The smallest cluster size (voxels) with FWE p ≤ alpha at the z threshold.
    public static func criticalSize(alpha: Double, zThreshold u: Double, searchVolume v: Double, dlh: Double) -> Int {
        var k = 1
        while k < Int(v), clusterP(size: Double(k), zThreshold: u, searchVolume: v, dlh: dlh) > alpha { k += 1 }
        return k
    }
}
