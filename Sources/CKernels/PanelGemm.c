// The panel products of the permutation kernel and their t passes, in Float32 and in Double,
// each with an AVX2 path chosen at run time. Swift targets baseline x86-64 (SSE2), where these
// run at half the width the CPUs in use today offer, and its 4-row x 8-voxel Double tile spilled
// accumulators to the stack there. Both paths do the same IEEE operations in the same order: the
// Float32 product accumulates with fused multiply-adds (the FMA instruction, or C's fmaf in the
// portable path: both round once); the Double product and both t passes use separate multiplies
// and adds (no contraction); division and square root are correctly rounded in both.
#pragma STDC FP_CONTRACT OFF
#include "CKernels.h"
#include <math.h>

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx2,fma")))
static void gemm_avx2(const float *panels, int panel_count, int n, const float *y, int w, float *c) {
    for (int p = 0; p < panel_count; p++) {
        const float *ap = panels + (long)p * n * 4;
        for (int col = 0; col < w; col += 16) {
            __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
            __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
            __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
            __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
            for (int k = 0; k < n; k++) {
                __m256 y0 = _mm256_loadu_ps(y + (long)k * w + col);
                __m256 y1 = _mm256_loadu_ps(y + (long)k * w + col + 8);
                __m256 a0 = _mm256_broadcast_ss(ap + k * 4);
                __m256 a1 = _mm256_broadcast_ss(ap + k * 4 + 1);
                __m256 a2 = _mm256_broadcast_ss(ap + k * 4 + 2);
                __m256 a3 = _mm256_broadcast_ss(ap + k * 4 + 3);
                c00 = _mm256_fmadd_ps(a0, y0, c00); c01 = _mm256_fmadd_ps(a0, y1, c01);
                c10 = _mm256_fmadd_ps(a1, y0, c10); c11 = _mm256_fmadd_ps(a1, y1, c11);
                c20 = _mm256_fmadd_ps(a2, y0, c20); c21 = _mm256_fmadd_ps(a2, y1, c21);
                c30 = _mm256_fmadd_ps(a3, y0, c30); c31 = _mm256_fmadd_ps(a3, y1, c31);
            }
            float *out = c + (long)p * 4 * w + col;
            _mm256_storeu_ps(out, c00); _mm256_storeu_ps(out + 8, c01);
            _mm256_storeu_ps(out + w, c10); _mm256_storeu_ps(out + w + 8, c11);
            _mm256_storeu_ps(out + 2 * w, c20); _mm256_storeu_ps(out + 2 * w + 8, c21);
            _mm256_storeu_ps(out + 3 * w, c30); _mm256_storeu_ps(out + 3 * w + 8, c31);
        }
    }
}

// The same product with AVX-512: a 4-row x 64-voxel tile (16 accumulators of 16 lanes, a whole
// block of the permutation kernel), for w a multiple of 64. Every lane is the same chain of fused
// multiply-adds over k as in the AVX2 and portable paths, so the bits are the same. On AMD Zen 4,
// which runs AVX-512 at the AVX2 rate, max-T with 5000 permutations took 2.7-2.9 s against the
// AVX2 tile's 3.5-3.9 s: half the instructions and a third of the loads per multiply-add. CPUs
// with two 512-bit FMA units can do twice the multiply-adds per cycle (not measured).
__attribute__((target("avx512f")))
static void gemm_avx512(const float *panels, int panel_count, int n, const float *y, int w, float *c) {
    for (int p = 0; p < panel_count; p++) {
        const float *ap = panels + (long)p * n * 4;
        for (int col = 0; col < w; col += 64) {
            __m512 acc[4][4];
            for (int r = 0; r < 4; r++)
                for (int l = 0; l < 4; l++) acc[r][l] = _mm512_setzero_ps();
            for (int k = 0; k < n; k++) {
                const float *yk = y + (long)k * w + col;
                __m512 y0 = _mm512_loadu_ps(yk), y1 = _mm512_loadu_ps(yk + 16);
                __m512 y2 = _mm512_loadu_ps(yk + 32), y3 = _mm512_loadu_ps(yk + 48);
                for (int r = 0; r < 4; r++) {
                    __m512 a = _mm512_set1_ps(ap[k * 4 + r]);
                    acc[r][0] = _mm512_fmadd_ps(a, y0, acc[r][0]);
                    acc[r][1] = _mm512_fmadd_ps(a, y1, acc[r][1]);
                    acc[r][2] = _mm512_fmadd_ps(a, y2, acc[r][2]);
                    acc[r][3] = _mm512_fmadd_ps(a, y3, acc[r][3]);
                }
            }
            for (int r = 0; r < 4; r++)
                for (int l = 0; l < 4; l++) _mm512_storeu_ps(c + (long)(p * 4 + r) * w + col + 16 * l, acc[r][l]);
        }
    }
}

__attribute__((target("avx2")))
static void tpass_avx2(const float *c, int b_count, int r_per, int w, float scale, int two_sided,
                       const float *cut, double *exceed, double *local_max, double *t_out, long t_stride) {
    const __m256 one = _mm256_set1_ps(1.0f), sc = _mm256_set1_ps(scale), inf = _mm256_set1_ps(INFINITY);
    const __m256 zero = _mm256_setzero_ps(), abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    for (int b = 0; b < b_count; b++) {
        const float *base = c + (long)b * r_per * w;
        __m256 mv = _mm256_set1_ps(-INFINITY);
        for (int col = 0; col < w; col += 8) {
            __m256 bb = _mm256_loadu_ps(base + col);
            __m256 rss = _mm256_sub_ps(one, _mm256_mul_ps(bb, bb));
            for (int r = 1; r < r_per; r++) {
                __m256 q = _mm256_loadu_ps(base + (long)r * w + col);
                rss = _mm256_sub_ps(rss, _mm256_mul_ps(q, q));
            }
            rss = _mm256_blendv_ps(rss, inf, _mm256_cmp_ps(rss, zero, _CMP_LE_OQ));
            __m256 t = _mm256_mul_ps(bb, _mm256_sqrt_ps(_mm256_div_ps(sc, rss)));
            __m256 st = two_sided ? _mm256_and_ps(t, abs_mask) : t;
            mv = _mm256_blendv_ps(mv, st, _mm256_cmp_ps(st, mv, _CMP_GT_OQ));
            // exceed += (st >= cut ? 1 : 0), without branches (adding 0.0 leaves a count as it is).
            __m256 hit = _mm256_and_ps(_mm256_cmp_ps(st, _mm256_loadu_ps(cut + col), _CMP_GE_OQ), one);
            _mm256_storeu_pd(exceed + col, _mm256_add_pd(_mm256_loadu_pd(exceed + col), _mm256_cvtps_pd(_mm256_castps256_ps128(hit))));
            _mm256_storeu_pd(exceed + col + 4, _mm256_add_pd(_mm256_loadu_pd(exceed + col + 4), _mm256_cvtps_pd(_mm256_extractf128_ps(hit, 1))));
            if (t_out) {
                double *out = t_out + (long)b * t_stride + col;
                _mm256_storeu_pd(out, _mm256_cvtps_pd(_mm256_castps256_ps128(t)));
                _mm256_storeu_pd(out + 4, _mm256_cvtps_pd(_mm256_extractf128_ps(t, 1)));
            }
        }
        float lanes[8];
        _mm256_storeu_ps(lanes, mv);
        float m = lanes[0];
        for (int l = 1; l < 8; l++) if (lanes[l] > m) m = lanes[l];
        if ((double)m > local_max[b]) local_max[b] = (double)m;
    }
}

__attribute__((target("avx2")))
static void gemm_f64_avx2(const double *panels, int panel_count, int n, const double *y, int w, double *c) {
    for (int p = 0; p < panel_count; p++) {
        const double *ap = panels + (long)p * n * 4;
        for (int col = 0; col < w; col += 8) {
            __m256d c00 = _mm256_setzero_pd(), c01 = _mm256_setzero_pd();
            __m256d c10 = _mm256_setzero_pd(), c11 = _mm256_setzero_pd();
            __m256d c20 = _mm256_setzero_pd(), c21 = _mm256_setzero_pd();
            __m256d c30 = _mm256_setzero_pd(), c31 = _mm256_setzero_pd();
            for (int k = 0; k < n; k++) {
                __m256d y0 = _mm256_loadu_pd(y + (long)k * w + col);
                __m256d y1 = _mm256_loadu_pd(y + (long)k * w + col + 4);
                __m256d a0 = _mm256_broadcast_sd(ap + k * 4);
                __m256d a1 = _mm256_broadcast_sd(ap + k * 4 + 1);
                __m256d a2 = _mm256_broadcast_sd(ap + k * 4 + 2);
                __m256d a3 = _mm256_broadcast_sd(ap + k * 4 + 3);
                c00 = _mm256_add_pd(c00, _mm256_mul_pd(a0, y0)); c01 = _mm256_add_pd(c01, _mm256_mul_pd(a0, y1));
                c10 = _mm256_add_pd(c10, _mm256_mul_pd(a1, y0)); c11 = _mm256_add_pd(c11, _mm256_mul_pd(a1, y1));
                c20 = _mm256_add_pd(c20, _mm256_mul_pd(a2, y0)); c21 = _mm256_add_pd(c21, _mm256_mul_pd(a2, y1));
                c30 = _mm256_add_pd(c30, _mm256_mul_pd(a3, y0)); c31 = _mm256_add_pd(c31, _mm256_mul_pd(a3, y1));
            }
            double *out = c + (long)p * 4 * w + col;
            _mm256_storeu_pd(out, c00); _mm256_storeu_pd(out + 4, c01);
            _mm256_storeu_pd(out + w, c10); _mm256_storeu_pd(out + w + 4, c11);
            _mm256_storeu_pd(out + 2 * w, c20); _mm256_storeu_pd(out + 2 * w + 4, c21);
            _mm256_storeu_pd(out + 3 * w, c30); _mm256_storeu_pd(out + 3 * w + 4, c31);
        }
    }
}

__attribute__((target("avx2")))
static void tpass_f64_avx2(const double *c, int b_count, int r_per, int w, double scale, int two_sided,
                           const double *cut, double *exceed, double *local_max, double *t_out, long t_stride) {
    const __m256d one = _mm256_set1_pd(1.0), sc = _mm256_set1_pd(scale), inf = _mm256_set1_pd(INFINITY);
    const __m256d zero = _mm256_setzero_pd(), abs_mask = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7fffffffffffffffLL));
    for (int b = 0; b < b_count; b++) {
        const double *base = c + (long)b * r_per * w;
        __m256d mv = _mm256_set1_pd(-INFINITY);
        for (int col = 0; col < w; col += 4) {
            __m256d bb = _mm256_loadu_pd(base + col);
            __m256d rss = _mm256_sub_pd(one, _mm256_mul_pd(bb, bb));
            for (int r = 1; r < r_per; r++) {
                __m256d q = _mm256_loadu_pd(base + (long)r * w + col);
                rss = _mm256_sub_pd(rss, _mm256_mul_pd(q, q));
            }
            rss = _mm256_blendv_pd(rss, inf, _mm256_cmp_pd(rss, zero, _CMP_LE_OQ));
            __m256d t = _mm256_mul_pd(bb, _mm256_sqrt_pd(_mm256_div_pd(sc, rss)));
            __m256d st = two_sided ? _mm256_and_pd(t, abs_mask) : t;
            mv = _mm256_blendv_pd(mv, st, _mm256_cmp_pd(st, mv, _CMP_GT_OQ));
            // exceed += (st >= cut ? 1 : 0), without branches (adding 0.0 leaves a count as it is).
            __m256d hit = _mm256_and_pd(_mm256_cmp_pd(st, _mm256_loadu_pd(cut + col), _CMP_GE_OQ), one);
            _mm256_storeu_pd(exceed + col, _mm256_add_pd(_mm256_loadu_pd(exceed + col), hit));
            if (t_out) _mm256_storeu_pd(t_out + (long)b * t_stride + col, t);
        }
        double lanes[4];
        _mm256_storeu_pd(lanes, mv);
        double m = lanes[0];
        for (int l = 1; l < 4; l++) if (lanes[l] > m) m = lanes[l];
        if (m > local_max[b]) local_max[b] = m;
    }
}
#endif

// The portable t passes, one body for both precisions (T, with its square root and absolute
// value, and the lanes of the max kept per voxel column as the AVX2 path keeps them); every
// operation rounds once in T, as in the AVX2 paths.
#define PIPE_TPASS_PORTABLE(NAME, T, SQRT, ABS, LANES)                                                  \
void NAME(const T *c, int b_count, int r_per, int w, T scale, int two_sided,                            \
          const T *cut, double *exceed, double *local_max, double *t_out, long t_stride) {              \
    for (int b = 0; b < b_count; b++) {                                                                 \
        const T *base = c + (long)b * r_per * w;                                                        \
        T mv[LANES];                                                                                    \
        for (int l = 0; l < LANES; l++) mv[l] = -INFINITY;                                              \
        for (int col = 0; col < w; col += LANES) {                                                      \
            for (int l = 0; l < LANES; l++) {                                                           \
                T bb = base[col + l];                                                                   \
                T rss = (T)1 - bb * bb;                                                                 \
                for (int r = 1; r < r_per; r++) {                                                       \
                    T q = base[(long)r * w + col + l];                                                  \
                    rss = rss - q * q;                                                                  \
                }                                                                                       \
                if (rss <= 0) rss = INFINITY;                                                           \
                T t = bb * SQRT(scale / rss);                                                           \
                T st = two_sided ? ABS(t) : t;                                                          \
                if (st > mv[l]) mv[l] = st;                                                             \
                if (st >= cut[col + l]) exceed[col + l] += 1;                                           \
                if (t_out) t_out[(long)b * t_stride + col + l] = (double)t;                             \
            }                                                                                           \
        }                                                                                               \
        T m = mv[0];                                                                                    \
        for (int l = 1; l < LANES; l++) if (mv[l] > m) m = mv[l];                                       \
        if ((double)m > local_max[b]) local_max[b] = (double)m;                                         \
    }                                                                                                   \
}

PIPE_TPASS_PORTABLE(pipe_tpass_f32_portable, float, sqrtf, fabsf, 8)
PIPE_TPASS_PORTABLE(pipe_tpass_f64_portable, double, sqrt, fabs, 4)

// The path of the Float32 product and t pass: that of every kernel (`pipe_kernels_path`), and 0
// without FMA, which their vector paths need.
static int fma_path(void) {
    static int has_fma = -1;
    if (has_fma < 0) has_fma = pipe_panel_gemm_f32_uses_avx2();
    return has_fma ? pipe_kernels_path() : 0;
}

void pipe_tpass_f32(const float *c, int b_count, int r_per, int w, float scale, int two_sided,
                    const float *cut, double *exceed, double *local_max, double *t_out, long t_stride) {
#if defined(__x86_64__)
    if (fma_path() >= 1) { tpass_avx2(c, b_count, r_per, w, scale, two_sided, cut, exceed, local_max, t_out, t_stride); return; }
#endif
    pipe_tpass_f32_portable(c, b_count, r_per, w, scale, two_sided, cut, exceed, local_max, t_out, t_stride);
}

void pipe_panel_gemm_f32_portable(const float *panels, int panel_count, int n, const float *y, int w, float *c) {
    for (int p = 0; p < panel_count; p++) {
        const float *ap = panels + (long)p * n * 4;
        for (int col = 0; col < w; col += 4) {
            float acc[4][4] = {{0}};
            for (int k = 0; k < n; k++) {
                for (int r = 0; r < 4; r++) {
                    for (int l = 0; l < 4; l++) {
                        acc[r][l] = fmaf(ap[k * 4 + r], y[(long)k * w + col + l], acc[r][l]);
                    }
                }
            }
            for (int r = 0; r < 4; r++) {
                for (int l = 0; l < 4; l++) c[(long)(p * 4 + r) * w + col + l] = acc[r][l];
            }
        }
    }
}

int pipe_panel_gemm_f32_uses_avx2(void) {
#if defined(__x86_64__)
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 1 : 0;
#else
    return 0;
#endif
}

void pipe_panel_gemm_f32(const float *panels, int panel_count, int n, const float *y, int w, float *c) {
#if defined(__x86_64__)
    const int path = fma_path();
    if (path >= 2 && w % 64 == 0) { gemm_avx512(panels, panel_count, n, y, w, c); return; }
    if (path >= 1) { gemm_avx2(panels, panel_count, n, y, w, c); return; }
#endif
    pipe_panel_gemm_f32_portable(panels, panel_count, n, y, w, c);
}

void pipe_panel_gemm_f64_portable(const double *panels, int panel_count, int n, const double *y, int w, double *c) {
    for (int p = 0; p < panel_count; p++) {
        const double *ap = panels + (long)p * n * 4;
        for (int col = 0; col < w; col += 4) {
            double acc[4][4] = {{0}};
            for (int k = 0; k < n; k++) {
                for (int r = 0; r < 4; r++) {
                    for (int l = 0; l < 4; l++) acc[r][l] = acc[r][l] + ap[k * 4 + r] * y[(long)k * w + col + l];
                }
            }
            for (int r = 0; r < 4; r++) {
                for (int l = 0; l < 4; l++) c[(long)(p * 4 + r) * w + col + l] = acc[r][l];
            }
        }
    }
}

void pipe_panel_gemm_f64(const double *panels, int panel_count, int n, const double *y, int w, double *c) {
#if defined(__x86_64__)
    if (pipe_kernels_path() >= 1) { gemm_f64_avx2(panels, panel_count, n, y, w, c); return; }
#endif
    pipe_panel_gemm_f64_portable(panels, panel_count, n, y, w, c);
}

void pipe_tpass_f64(const double *c, int b_count, int r_per, int w, double scale, int two_sided,
                    const double *cut, double *exceed, double *local_max, double *t_out, long t_stride) {
#if defined(__x86_64__)
    if (pipe_kernels_path() >= 1) { tpass_f64_avx2(c, b_count, r_per, w, scale, two_sided, cut, exceed, local_max, t_out, t_stride); return; }
#endif
    pipe_tpass_f64_portable(c, b_count, r_per, w, scale, two_sided, cut, exceed, local_max, t_out, t_stride);
}
