#ifndef PIPE_CKERNELS_H
#define PIPE_CKERNELS_H

#include <stdint.h>

/// C = A·Y for the permutation kernel's Float32 path: `panels` holds `panel_count` panels of 4 rows
/// laid out [panel][k][4]; `y` is n x w (row-major, w a multiple of 16); `c` receives
/// (4·panel_count) x w. Every element is accumulated over k = 0…n−1 in order with fused
/// multiply-adds (one rounding each), so the AVX-512 path (`pipe_kernels_path` 2, w a multiple of
/// 64), the AVX2 + FMA path and the portable path (C's fmaf) give bit-identical results.
void pipe_panel_gemm_f32(const float *panels, int panel_count, int n, const float *y, int w, float *c);

/// The portable path of `pipe_panel_gemm_f32`, whatever the CPU (for tests).
void pipe_panel_gemm_f32_portable(const float *panels, int panel_count, int n, const float *y, int w, float *c);

/// Whether `pipe_panel_gemm_f32` (and `pipe_tpass_f32`) run their AVX2 path on this CPU (AVX2 and
/// FMA).
int pipe_panel_gemm_f32_uses_avx2(void);

/// The t pass of the permutation kernel on a Float32 product tile `c` of `b_count` relabelings ×
/// `r_per` rows × `w` voxels (w a multiple of 8; row 0 the tested regressor's b, rows ≥ 1 the
/// nuisance products): per voxel rss = 1 − b² − Σ q² (+∞ when ≤ 0) and t = b·√(scale/rss) in
/// Float32; st = |t| when `two_sided`, else t. Raises local_max[b] to the largest st, adds 1 to
/// exceed[v] where st ≥ cut[v], and stores t widened to double at t_out[b·t_stride + v] when
/// t_out is not NULL. The AVX2 and portable paths give the same bits.
void pipe_tpass_f32(const float *c, int b_count, int r_per, int w, float scale, int two_sided,
                    const float *cut, double *exceed, double *local_max, double *t_out, long t_stride);
void pipe_tpass_f32_portable(const float *c, int b_count, int r_per, int w, float scale, int two_sided,
                             const float *cut, double *exceed, double *local_max, double *t_out, long t_stride);

/// The Double product and t pass of the permutation kernel (exhaustive and small random nulls):
/// as `pipe_panel_gemm_f32` and `pipe_tpass_f32` with w a multiple of 8 (product) or 4 (t pass),
/// but every sum is a separate multiply and add (no fused multiply-add), in k order, so the AVX2
/// path, used when the CPU has it, and the portable path give the same bits: those of a plain
/// loop summing a·y over k in order. They use AVX2 when `pipe_kernels_path` is at least 1.
void pipe_panel_gemm_f64(const double *panels, int panel_count, int n, const double *y, int w, double *c);
void pipe_panel_gemm_f64_portable(const double *panels, int panel_count, int n, const double *y, int w, double *c);
void pipe_tpass_f64(const double *c, int b_count, int r_per, int w, double scale, int two_sided,
                    const double *cut, double *exceed, double *local_max, double *t_out, long t_stride);
void pipe_tpass_f64_portable(const double *c, int b_count, int r_per, int w, double scale, int two_sided,
                             const double *cut, double *exceed, double *local_max, double *t_out, long t_stride);

/// The path every kernel here takes on this CPU: 2 AVX-512 (the Float32 product, and the signal
/// kernels but the seed correlation sums, which take AVX2 as the other kernels do), 1 AVX2, 0
/// portable. The Float32 product and t pass also need FMA, else they are portable. Every path
/// gives the same bits.
int pipe_kernels_path(void);

/// Lowers the path every kernel may take to `path` (for tests; −1 lifts the cap).
void pipe_kernels_cap_path(int path);

/// Whether the signal kernels below run their AVX2 path (or a wider one) on this CPU.
int pipe_kernels_use_avx2(void);

/// One pass of a cascade of five second-order sections (transposed direct form II) over `count`
/// rows of `lanes` interleaved series (`x[t * lanes + j]`), forward or backward, in place. `coef`
/// holds [b0, b1, b2, a1, a2] per section (25 values; an unused section is b = [1, 0, 0],
/// a = [0, 0]); the states start at `zi` (2 per section, 10 values) times the first row visited.
void pipe_sos_cascade5(double *x, long count, long lanes, const double *coef, const double *zi, int forward);
void pipe_sos_cascade5_portable(double *x, long count, long lanes, const double *coef, const double *zi, int forward);

/// y −= Q (Qᵀ y) for `lanes` interleaved series of `rows` rows (`block[r * lanes + j]`): `qt` is
/// Qᵀ (rank x rows), `q` is Q (rows x rank), both row-major; `coefficients` holds rank x 8 doubles.
void pipe_regress(double *block, long rows, long lanes, int rank, const double *qt, const double *q, double *coefficients);
void pipe_regress_portable(double *block, long rows, long lanes, int rank, const double *qt, const double *q, double *coefficients);

/// dst[j] = Float(w₀ c_j + Σ_{k=1…radius} w_k (c_{j+k·step} + c_{j−k·step})) for j < count, with
/// c = `center` and w_k at w[radius + k].
void pipe_convolve(const double *center, long step, long count, const double *w, int radius, float *dst);
void pipe_convolve_portable(const double *center, long step, long count, const double *w, int radius, float *dst);

/// Seed correlation sums of one block of `w` columns of a row-major T x V float32 series (`x` at
/// the block's first column, rows `v` apart) with `m` centred seeds (`seeds[k·t + r]`): writes
/// each column's mean (w), Σ(x − mean)² (w) and, per seed, Σ(x − mean)·s (m·w, seed-major).
void pipe_pearson_block(const float *x, long v, long t, long w, const double *seeds, int m, double *mean, double *sxx, double *sxy);
void pipe_pearson_block_portable(const float *x, long v, long t, long w, const double *seeds, int m, double *mean, double *sxx, double *sxy);

/// dst[i] = (float)src[i], or with `scaled` (float)((double)src[i] · slope + intercept), for i < n.
void pipe_decode_i16(const int16_t *src, long n, int scaled, double slope, double intercept, float *dst);
void pipe_decode_i16_portable(const int16_t *src, long n, int scaled, double slope, double intercept, float *dst);

/// dst[i] = (double)src[i] for i < n (exact).
void pipe_widen(const float *src, double *dst, long n);
void pipe_widen_portable(const float *src, double *dst, long n);

/// Exact TFCE, step 2: for each voxel i with rank_of[i] = r (INT32_MAX when excluded; ranks below
/// `split` are positive voxels, the others negative), writes at neighbors[r·degree…] the ranks of
/// its neighbours (`table`, voxels x degree, −1 padded) of the same sign and smaller rank, −1
/// terminated when fewer than `degree`.
void pipe_tfce_rank_neighbors(const int *table, const int *rank_of, long voxels, int degree, int split, int *neighbors);

/// Step 1 of exact TFCE: builds the keys and radix-sorts them descending (TFCEWorkspace.swift);
/// returns m, the voxels with u > 0. The sorted records are in `scratch` when `*in_scratch`.
/// `hist` holds 7 × 2048 counts (three digits, and four copies of the top one).
long pipe_tfce_sort(const double *map, long v, int two_sided, uint64_t *records, uint64_t *scratch,
                    long *hist, long *positives, int *float_exact, int *in_scratch);

#endif
