/// Arithmetic used for the null t maps in `PermutationTest`.
///
/// - `double`: Float64 data and accumulation; null t agree with a float64 reference to ~1e-15
///   relative, so exhaustive p-values are exact.
/// - `float`: the residualised, normalised data and relabeled regressors are rounded to Float32 and
///   the n-term dot products accumulated in Float32 (8-lane SIMD, twice the throughput). With
///   unit-norm columns each product has absolute error ≲ n·2⁻²⁴ ≈ 3e-6 (typically ~√n·6e-8 ≈ 4e-7),
///   so null maxima move by ~1e-6 relative; a p-value changes only if a null maximum falls within
///   that band of a voxel's observed t (probability ~1e-6 per comparison, effect ±1/(N+1)). The
///   observed t map and the uncorrected statistics reported are always Float64.
/// - `automatic`: `double` when enumerating exhaustively or when the work n·V·N·R is below 2e10
///   multiply-adds, else `float`.
public enum PermutationPrecision: Sendable, Equatable {
    case automatic
    case double
    case float
}
