#ifndef PIPE_CKERNELS_H
#define PIPE_CKERNELS_H

/// C = A·Y for the permutation kernel's Float32 path: `panels` holds `panel_count` panels of 4 rows
/// laid out [panel][k][4]; `y` is n x w (row-major, w a multiple of 16); `c` receives
/// (4·panel_count) x w. Every element is accumulated over k = 0…n−1 in order with a separate
/// multiply and add (no fused multiply-add), so the AVX2 path, used when the CPU has it, and the
/// SSE path give bit-identical results.
void pipe_panel_gemm_f32(const float *panels, int panel_count, int n, const float *y, int w, float *c);

/// The portable path of `pipe_panel_gemm_f32`, whatever the CPU (for tests).
void pipe_panel_gemm_f32_portable(const float *panels, int panel_count, int n, const float *y, int w, float *c);

/// Whether `pipe_panel_gemm_f32` runs its AVX2 path on this CPU.
int pipe_panel_gemm_f32_uses_avx2(void);

#endif
