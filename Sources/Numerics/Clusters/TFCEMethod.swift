/// Which TFCE definition to use (E = 0.5, H = 2, 6-connectivity in both).
public enum TFCEMethod: Sendable, Equatable {
    /// Step-free: TFCE(v) = ∫₀^{t_v} e_v(h)^E h^H dh exactly (see `TFCE.exact`).
    case exact
    /// nilearn's `calculate_tfce`: 100 steps h_k = k·max|t|/100, voxels ≥ h_k, Σ e^E h^H with no dh.
    case nilearnStepped
}
