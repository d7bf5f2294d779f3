// The Float32 panel product of the permutation kernel, with an AVX2 path chosen at run time.
// Swift targets baseline x86-64 (SSE2), where this product runs at half the width the CPUs in
// use today offer. Both paths multiply, then add, in the same order: no FMA contraction.
#pragma STDC FP_CONTRACT OFF
#include "CKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx2")))
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
                c00 = _mm256_add_ps(c00, _mm256_mul_ps(a0, y0)); c01 = _mm256_add_ps(c01, _mm256_mul_ps(a0, y1));
                c10 = _mm256_add_ps(c10, _mm256_mul_ps(a1, y0)); c11 = _mm256_add_ps(c11, _mm256_mul_ps(a1, y1));
                c20 = _mm256_add_ps(c20, _mm256_mul_ps(a2, y0)); c21 = _mm256_add_ps(c21, _mm256_mul_ps(a2, y1));
                c30 = _mm256_add_ps(c30, _mm256_mul_ps(a3, y0)); c31 = _mm256_add_ps(c31, _mm256_mul_ps(a3, y1));
            }
            float *out = c + (long)p * 4 * w + col;
            _mm256_storeu_ps(out, c00); _mm256_storeu_ps(out + 8, c01);
            _mm256_storeu_ps(out + w, c10); _mm256_storeu_ps(out + w + 8, c11);
            _mm256_storeu_ps(out + 2 * w, c20); _mm256_storeu_ps(out + 2 * w + 8, c21);
            _mm256_storeu_ps(out + 3 * w, c30); _mm256_storeu_ps(out + 3 * w + 8, c31);
        }
    }
}
#endif

void pipe_panel_gemm_f32_portable(const float *panels, int panel_count, int n, const float *y, int w, float *c) {
    for (int p = 0; p < panel_count; p++) {
        const float *ap = panels + (long)p * n * 4;
        for (int col = 0; col < w; col += 4) {
            float acc[4][4] = {{0}};
            for (int k = 0; k < n; k++) {
                for (int r = 0; r < 4; r++) {
                    for (int l = 0; l < 4; l++) {
                        float product = ap[k * 4 + r] * y[(long)k * w + col + l];
                        acc[r][l] = acc[r][l] + product;
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
    return __builtin_cpu_supports("avx2") ? 1 : 0;
#else
    return 0;
#endif
}

void pipe_panel_gemm_f32(const float *panels, int panel_count, int n, const float *y, int w, float *c) {
#if defined(__x86_64__)
    static int avx2 = -1;
    if (avx2 < 0) avx2 = pipe_panel_gemm_f32_uses_avx2();
    if (avx2) { gemm_avx2(panels, panel_count, n, y, w, c); return; }
#endif
    pipe_panel_gemm_f32_portable(panels, panel_count, n, y, w, c);
}
