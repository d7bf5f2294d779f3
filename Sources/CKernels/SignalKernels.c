// The cleaning, smoothing and correlation kernels of the subject chain: Butterworth sections,
// confound regression, the Gaussian convolution and the seed correlation sums. Swift targets
// baseline x86-64 (SSE2); these loops run twice as wide with AVX2, chosen at run time, and all
// but the seed correlation sums four times as wide with AVX-512. Each function body is written
// once over 4-double vectors (GCC/Clang vector extensions) and compiled for each target; the
// AVX-512 paths run the Butterworth sections, the regression and the convolution over 8-double
// vectors first. Every lane does the same IEEE operations in the
// same order on every path (multiply, then add; no FMA), so the paths give bit-identical
// results, equal to the Swift code they replaced.
#pragma STDC FP_CONTRACT OFF
#include "CKernels.h"

typedef double v4d __attribute__((vector_size(32)));

#define INLINE static inline __attribute__((always_inline))

INLINE v4d load4(const double *p) { v4d v; __builtin_memcpy(&v, p, sizeof v); return v; }
INLINE void store4(double *p, v4d v) { __builtin_memcpy(p, &v, sizeof v); }
INLINE v4d splat(double s) { return (v4d){s, s, s, s}; }

typedef double v8d __attribute__((vector_size(64)));
INLINE v8d load8(const double *p) { v8d v; __builtin_memcpy(&v, p, sizeof v); return v; }
INLINE void store8(double *p, v8d v) { __builtin_memcpy(p, &v, sizeof v); }
INLINE v8d splat8(double s) { return (v8d){s, s, s, s, s, s, s, s}; }

// MARK: Butterworth cascade

// One section of the transposed direct form II: y = b0 x + p; p = b1 x − a1 y + q; q = b2 x − a2 y.
#define SECTION(T, x, p, q, c) do { \
        T y_ = (c)[0] * (x) + (p); \
        (p) = (c)[1] * (x) - (c)[3] * y_ + (q); \
        (q) = (c)[2] * (x) - (c)[4] * y_; \
        (x) = y_; \
    } while (0)

// Lanes j, j + W, … while W more remain, with W-lane vectors; returns the first lane not done.
#define CASCADE5_LANES(NAME, VT, LOAD, STORE, SPLAT, W) \
INLINE long NAME(double *first, long step, long count, long lanes, const double *coef, const double *zi, long j) { \
    for (; j + W <= lanes; j += W) { \
        VT c[5][5]; \
        for (int s = 0; s < 5; s++) for (int k = 0; k < 5; k++) c[s][k] = SPLAT(coef[5 * s + k]); \
        const VT x0 = LOAD(first + j); \
        VT p0 = SPLAT(zi[0]) * x0, q0 = SPLAT(zi[1]) * x0; \
        VT p1 = SPLAT(zi[2]) * x0, q1 = SPLAT(zi[3]) * x0; \
        VT p2 = SPLAT(zi[4]) * x0, q2 = SPLAT(zi[5]) * x0; \
        VT p3 = SPLAT(zi[6]) * x0, q3 = SPLAT(zi[7]) * x0; \
        VT p4 = SPLAT(zi[8]) * x0, q4 = SPLAT(zi[9]) * x0; \
        double *row = first + j; \
        for (long t = 0; t < count; t++, row += step) { \
            VT v = LOAD(row); \
            SECTION(VT, v, p0, q0, c[0]); \
            SECTION(VT, v, p1, q1, c[1]); \
            SECTION(VT, v, p2, q2, c[2]); \
            SECTION(VT, v, p3, q3, c[3]); \
            SECTION(VT, v, p4, q4, c[4]); \
            STORE(row, v); \
        } \
    } \
    return j; \
}
CASCADE5_LANES(cascade5_lanes4, v4d, load4, store4, splat, 4)
CASCADE5_LANES(cascade5_lanes8, v8d, load8, store8, splat8, 8)

// The lanes from j on, one at a time.
INLINE void cascade5_tail(double *first, long step, long count, long lanes, const double *coef, const double *zi, long j) {
    for (; j < lanes; j++) {
        const double x0 = first[j];
        double p[5], q[5];
        for (int s = 0; s < 5; s++) { p[s] = zi[2 * s] * x0; q[s] = zi[2 * s + 1] * x0; }
        double *row = first + j;
        for (long t = 0; t < count; t++, row += step) {
            double v = *row;
            for (int s = 0; s < 5; s++) SECTION(double, v, p[s], q[s], coef + 5 * s);
            *row = v;
        }
    }
}

INLINE void cascade5_body(double *x, long count, long lanes, const double *coef, const double *zi, int forward, int wide) {
    const long step = forward ? lanes : -lanes;
    double *first = forward ? x : x + (count - 1) * lanes;
    long j = wide ? cascade5_lanes8(first, step, count, lanes, coef, zi, 0) : 0;
    j = cascade5_lanes4(first, step, count, lanes, coef, zi, j);
    cascade5_tail(first, step, count, lanes, coef, zi, j);
}

// MARK: Confound regression

// y −= Q (Qᵀ y): first every coefficient c_k = Σ_r Qᵀ[k][r] y_r (r ascending, from 0), then each
// row y_r −= Q[r][k] c_k for k ascending. Eight lanes at a time (two 4-double vectors), four
// coefficients at a time in registers; `coefficients` holds rank × 8 doubles.
// The same eight lanes at a time in one 8-double vector, eight coefficients at a time in
// registers (AVX-512 has 32 of them); returns the first lane not done.
INLINE long regress_lanes8_wide(double *block, long rows, long lanes, int rank, const double *qt, const double *q, double *coefficients) {
    long j = 0;
    for (; j + 8 <= lanes; j += 8) {
        double *b = block + j;
        int k = 0;
        for (; k + 8 <= rank; k += 8) {
            const double *q0 = qt + (long)k * rows;
            v8d a0 = splat8(0), a1 = splat8(0), a2 = splat8(0), a3 = splat8(0);
            v8d a4 = splat8(0), a5 = splat8(0), a6 = splat8(0), a7 = splat8(0);
            for (long r = 0; r < rows; r++) {
                const v8d x = load8(b + r * lanes);
                a0 = a0 + splat8(q0[r]) * x;
                a1 = a1 + splat8(q0[rows + r]) * x;
                a2 = a2 + splat8(q0[2 * rows + r]) * x;
                a3 = a3 + splat8(q0[3 * rows + r]) * x;
                a4 = a4 + splat8(q0[4 * rows + r]) * x;
                a5 = a5 + splat8(q0[5 * rows + r]) * x;
                a6 = a6 + splat8(q0[6 * rows + r]) * x;
                a7 = a7 + splat8(q0[7 * rows + r]) * x;
            }
            double *c = coefficients + (long)k * 8;
            store8(c, a0); store8(c + 8, a1); store8(c + 16, a2); store8(c + 24, a3);
            store8(c + 32, a4); store8(c + 40, a5); store8(c + 48, a6); store8(c + 56, a7);
        }
        for (; k < rank; k++) {
            const double *q0 = qt + (long)k * rows;
            v8d a = splat8(0);
            for (long r = 0; r < rows; r++) a = a + splat8(q0[r]) * load8(b + r * lanes);
            store8(coefficients + (long)k * 8, a);
        }
        for (long r = 0; r < rows; r++) {
            v8d x = load8(b + r * lanes);
            const double *qr = q + r * rank;
            for (int kk = 0; kk < rank; kk++) x = x - splat8(qr[kk]) * load8(coefficients + (long)kk * 8);
            store8(b + r * lanes, x);
        }
    }
    return j;
}

INLINE void regress_body(double *block, long rows, long lanes, int rank, const double *qt, const double *q, double *coefficients, int wide) {
    long j = wide ? regress_lanes8_wide(block, rows, lanes, rank, qt, q, coefficients) : 0;
    for (; j + 8 <= lanes; j += 8) {
        double *b = block + j;
        int k = 0;
        for (; k + 4 <= rank; k += 4) {
            const double *q0 = qt + (long)k * rows, *q1 = q0 + rows, *q2 = q1 + rows, *q3 = q2 + rows;
            v4d a00 = splat(0), a01 = splat(0), a10 = splat(0), a11 = splat(0);
            v4d a20 = splat(0), a21 = splat(0), a30 = splat(0), a31 = splat(0);
            for (long r = 0; r < rows; r++) {
                const v4d x0 = load4(b + r * lanes), x1 = load4(b + r * lanes + 4);
                const v4d w0 = splat(q0[r]), w1 = splat(q1[r]), w2 = splat(q2[r]), w3 = splat(q3[r]);
                a00 = a00 + w0 * x0; a01 = a01 + w0 * x1;
                a10 = a10 + w1 * x0; a11 = a11 + w1 * x1;
                a20 = a20 + w2 * x0; a21 = a21 + w2 * x1;
                a30 = a30 + w3 * x0; a31 = a31 + w3 * x1;
            }
            double *c = coefficients + (long)k * 8;
            store4(c, a00); store4(c + 4, a01); store4(c + 8, a10); store4(c + 12, a11);
            store4(c + 16, a20); store4(c + 20, a21); store4(c + 24, a30); store4(c + 28, a31);
        }
        for (; k < rank; k++) {
            const double *q0 = qt + (long)k * rows;
            v4d a0 = splat(0), a1 = splat(0);
            for (long r = 0; r < rows; r++) {
                const v4d w0 = splat(q0[r]);
                a0 = a0 + w0 * load4(b + r * lanes);
                a1 = a1 + w0 * load4(b + r * lanes + 4);
            }
            store4(coefficients + (long)k * 8, a0);
            store4(coefficients + (long)k * 8 + 4, a1);
        }
        for (long r = 0; r < rows; r++) {
            v4d x0 = load4(b + r * lanes), x1 = load4(b + r * lanes + 4);
            const double *qr = q + r * rank;
            for (int kk = 0; kk < rank; kk++) {
                const v4d w = splat(qr[kk]);
                x0 = x0 - w * load4(coefficients + (long)kk * 8);
                x1 = x1 - w * load4(coefficients + (long)kk * 8 + 4);
            }
            store4(b + r * lanes, x0);
            store4(b + r * lanes + 4, x1);
        }
    }
    for (; j < lanes; j++) {
        double *b = block + j;
        for (int k = 0; k < rank; k++) {
            const double *q0 = qt + (long)k * rows;
            double a = 0;
            for (long r = 0; r < rows; r++) a = a + q0[r] * b[r * lanes];
            coefficients[k] = a;
        }
        for (long r = 0; r < rows; r++) {
            double x = b[r * lanes];
            const double *qr = q + r * rank;
            for (int kk = 0; kk < rank; kk++) x = x - qr[kk] * coefficients[kk];
            b[r * lanes] = x;
        }
    }
}

// MARK: Gaussian convolution

// dst[j] = (float)(w₀ c_j + Σ_{k=1…r} w_k (c_{j+k·step} + c_{j−k·step})), weights at w[r + k].
// Outputs j, j + 2W, … while 2W more remain, two W-lane vectors at a time; returns the first not done.
#define CONVOLVE_OUTPUTS(NAME, VT, LOAD, SPLAT, W) \
INLINE long NAME(const double *center, long step, long count, const double *w, int radius, float *dst, long j) { \
    const double w0 = w[radius]; \
    for (; j + 2 * W <= count; j += 2 * W) { \
        const double *c = center + j; \
        VT acc0 = SPLAT(w0) * LOAD(c), acc1 = SPLAT(w0) * LOAD(c + W); \
        for (int k = 1; k <= radius; k++) { \
            const VT wk = SPLAT(w[radius + k]); \
            const double *up = c + k * step, *down = c - k * step; \
            acc0 = acc0 + wk * (LOAD(up) + LOAD(down)); \
            acc1 = acc1 + wk * (LOAD(up + W) + LOAD(down + W)); \
        } \
        for (int l = 0; l < W; l++) { dst[j + l] = (float)acc0[l]; dst[j + W + l] = (float)acc1[l]; } \
    } \
    return j; \
}
CONVOLVE_OUTPUTS(convolve_outputs8, v4d, load4, splat, 4)
CONVOLVE_OUTPUTS(convolve_outputs16, v8d, load8, splat8, 8)

INLINE void convolve_body(const double *center, long step, long count, const double *w, int radius, float *dst, int wide) {
    long j = wide ? convolve_outputs16(center, step, count, w, radius, dst, 0) : 0;
    j = convolve_outputs8(center, step, count, w, radius, dst, j);
    const double w0 = w[radius];
    for (; j < count; j++) {
        const double *c = center + j;
        double acc = w0 * c[0];
        for (int k = 1; k <= radius; k++) acc = acc + w[radius + k] * (c[k * step] + c[-k * step]);
        dst[j] = (float)acc;
    }
}

// MARK: Seed correlation

// The sums of one block of w columns of a row-major T x V float32 series (`x` at the block's
// first column, rows `v` apart), in the operations and order of SeedCorrelation.pearsonKernel:
// mean_j = (Σ_r x_rj, r ascending) / t; then, r ascending, e = x_rj − mean_j, sxx_j += e·e and
// for each seed k, sxy[k·w + j] += e·seeds[k·t + r]. Four columns at a time, with the sums of
// three seeds kept in registers over all t rows (each seed's sum keeps its own order, so the
// grouping changes no bit); columns past the last multiple of 4 one at a time.
INLINE void pearson_body(const float *x, long v, long t, long w, const double *seeds, int m,
                         double *mean, double *sxx, double *sxy) {
    for (long j = 0; j < w; j++) mean[j] = 0;
    for (long r = 0; r < t; r++) {
        const float *row = x + r * v;
        for (long j = 0; j < w; j++) mean[j] = mean[j] + (double)row[j];
    }
    for (long j = 0; j < w; j++) mean[j] = mean[j] / (double)t;
    long j = 0;
    for (; j + 4 <= w; j += 4) {
        const v4d mu = load4(mean + j);
        for (int k0 = 0; k0 < m; k0 += 3) {
            const int first = k0 == 0;
            const double *s0 = seeds + (long)k0 * t;
            const double *s1 = k0 + 1 < m ? s0 + t : s0, *s2 = k0 + 2 < m ? s0 + 2 * t : s0;
            v4d xx = splat(0), a0 = splat(0), a1 = splat(0), a2 = splat(0);
            for (long r = 0; r < t; r++) {
                const float *p = x + r * v + j;
                const v4d e = (v4d){(double)p[0], (double)p[1], (double)p[2], (double)p[3]} - mu;
                if (first) xx = xx + e * e;
                a0 = a0 + e * splat(s0[r]);
                a1 = a1 + e * splat(s1[r]);
                a2 = a2 + e * splat(s2[r]);
            }
            if (first) store4(sxx + j, xx);
            store4(sxy + (long)k0 * w + j, a0);
            if (k0 + 1 < m) store4(sxy + (long)(k0 + 1) * w + j, a1);
            if (k0 + 2 < m) store4(sxy + (long)(k0 + 2) * w + j, a2);
        }
    }
    for (; j < w; j++) {
        double xx = 0;
        for (int k = 0; k < m; k++) sxy[(long)k * w + j] = 0;
        for (long r = 0; r < t; r++) {
            const double e = (double)x[r * v + j] - mean[j];
            xx = xx + e * e;
            for (int k = 0; k < m; k++) sxy[(long)k * w + j] = sxy[(long)k * w + j] + e * seeds[(long)k * t + r];
        }
        sxx[j] = xx;
    }
}

// MARK: int16 decoding

// dst[i] = (float)src[i], or (float)((double)src[i] · slope + intercept) with scaling: the NIfTI
// reader's conversion of an int16 run (the usual fMRIPrep BOLD), the same operations as its Swift
// loop (VoxelConversion), 4 values at a time with AVX2.
INLINE void decode_i16_body(const int16_t *src, long n, int scaled, double slope, double intercept, float *dst) {
    if (scaled) {
        for (long i = 0; i < n; i++) dst[i] = (float)((double)src[i] * slope + intercept);
    } else {
        for (long i = 0; i < n; i++) dst[i] = (float)src[i];
    }
}

// MARK: widening

// dst[i] = (double)src[i]: exact, so the two paths agree trivially. Fills the smoothing's Double
// scratch rows (vcvtps2pd is 4 lanes wide with AVX2, 2 without).
INLINE void widen_body(const float *src, double *dst, long n) {
    for (long i = 0; i < n; i++) dst[i] = (double)src[i];
}

// MARK: Dispatch

#if defined(__x86_64__)
#define AVX2 __attribute__((target("avx2")))
#define AVX512 __attribute__((target("avx512f")))
AVX2 static void cascade5_avx2(double *x, long count, long lanes, const double *coef, const double *zi, int forward) {
    cascade5_body(x, count, lanes, coef, zi, forward, 0);
}
AVX512 static void cascade5_avx512(double *x, long count, long lanes, const double *coef, const double *zi, int forward) {
    cascade5_body(x, count, lanes, coef, zi, forward, 1);
}
AVX2 static void regress_avx2(double *block, long rows, long lanes, int rank, const double *qt, const double *q, double *coefficients) {
    regress_body(block, rows, lanes, rank, qt, q, coefficients, 0);
}
AVX512 static void regress_avx512(double *block, long rows, long lanes, int rank, const double *qt, const double *q, double *coefficients) {
    regress_body(block, rows, lanes, rank, qt, q, coefficients, 1);
}
AVX2 static void convolve_avx2(const double *center, long step, long count, const double *w, int radius, float *dst) {
    convolve_body(center, step, count, w, radius, dst, 0);
}
AVX512 static void convolve_avx512(const double *center, long step, long count, const double *w, int radius, float *dst) {
    convolve_body(center, step, count, w, radius, dst, 1);
}
AVX2 static void widen_avx2(const float *src, double *dst, long n) {
    widen_body(src, dst, n);
}
AVX512 static void widen_avx512(const float *src, double *dst, long n) {
    widen_body(src, dst, n);
}
AVX2 static void decode_i16_avx2(const int16_t *src, long n, int scaled, double slope, double intercept, float *dst) {
    decode_i16_body(src, n, scaled, slope, intercept, dst);
}
AVX512 static void decode_i16_avx512(const int16_t *src, long n, int scaled, double slope, double intercept, float *dst) {
    decode_i16_body(src, n, scaled, slope, intercept, dst);
}
AVX2 static void pearson_avx2(const float *x, long v, long t, long w, const double *seeds, int m, double *mean, double *sxx, double *sxy) {
    pearson_body(x, v, t, w, seeds, m, mean, sxx, sxy);
}
#endif

/// The best path this CPU has: 2 AVX-512, 1 AVX2, 0 portable.
static int best_path(void) {
#if defined(__x86_64__)
    static int cached = -1;
    if (cached < 0) cached = __builtin_cpu_supports("avx512f") ? 2 : __builtin_cpu_supports("avx2") ? 1 : 0;
    return cached;
#else
    return 0;
#endif
}

/// The highest path the kernels may take (tests lower it).
static int path_cap = 2;

void pipe_kernels_cap_path(int path) { __atomic_store_n(&path_cap, path < 0 ? 2 : path, __ATOMIC_RELAXED); }

int pipe_kernels_path(void) {
    const int cap = __atomic_load_n(&path_cap, __ATOMIC_RELAXED);
    const int best = best_path();
    return best < cap ? best : cap;
}

int pipe_kernels_use_avx2(void) { return pipe_kernels_path() >= 1; }

void pipe_sos_cascade5_portable(double *x, long count, long lanes, const double *coef, const double *zi, int forward) {
    cascade5_body(x, count, lanes, coef, zi, forward, 0);
}

void pipe_sos_cascade5(double *x, long count, long lanes, const double *coef, const double *zi, int forward) {
#if defined(__x86_64__)
    const int path = pipe_kernels_path();
    if (path >= 2) { cascade5_avx512(x, count, lanes, coef, zi, forward); return; }
    if (path == 1) { cascade5_avx2(x, count, lanes, coef, zi, forward); return; }
#endif
    cascade5_body(x, count, lanes, coef, zi, forward, 0);
}

void pipe_regress_portable(double *block, long rows, long lanes, int rank, const double *qt, const double *q, double *coefficients) {
    regress_body(block, rows, lanes, rank, qt, q, coefficients, 0);
}

void pipe_regress(double *block, long rows, long lanes, int rank, const double *qt, const double *q, double *coefficients) {
#if defined(__x86_64__)
    const int path = pipe_kernels_path();
    if (path >= 2) { regress_avx512(block, rows, lanes, rank, qt, q, coefficients); return; }
    if (path == 1) { regress_avx2(block, rows, lanes, rank, qt, q, coefficients); return; }
#endif
    regress_body(block, rows, lanes, rank, qt, q, coefficients, 0);
}

void pipe_convolve_portable(const double *center, long step, long count, const double *w, int radius, float *dst) {
    convolve_body(center, step, count, w, radius, dst, 0);
}

void pipe_convolve(const double *center, long step, long count, const double *w, int radius, float *dst) {
#if defined(__x86_64__)
    const int path = pipe_kernels_path();
    if (path >= 2) { convolve_avx512(center, step, count, w, radius, dst); return; }
    if (path == 1) { convolve_avx2(center, step, count, w, radius, dst); return; }
#endif
    convolve_body(center, step, count, w, radius, dst, 0);
}

void pipe_widen_portable(const float *src, double *dst, long n) {
    widen_body(src, dst, n);
}

void pipe_widen(const float *src, double *dst, long n) {
#if defined(__x86_64__)
    const int path = pipe_kernels_path();
    if (path >= 2) { widen_avx512(src, dst, n); return; }
    if (path == 1) { widen_avx2(src, dst, n); return; }
#endif
    widen_body(src, dst, n);
}

void pipe_pearson_block_portable(const float *x, long v, long t, long w, const double *seeds, int m, double *mean, double *sxx, double *sxy) {
    pearson_body(x, v, t, w, seeds, m, mean, sxx, sxy);
}

void pipe_pearson_block(const float *x, long v, long t, long w, const double *seeds, int m, double *mean, double *sxx, double *sxy) {
#if defined(__x86_64__)
    if (pipe_kernels_path() >= 1) { pearson_avx2(x, v, t, w, seeds, m, mean, sxx, sxy); return; }
#endif
    pearson_body(x, v, t, w, seeds, m, mean, sxx, sxy);
}

void pipe_decode_i16_portable(const int16_t *src, long n, int scaled, double slope, double intercept, float *dst) {
    decode_i16_body(src, n, scaled, slope, intercept, dst);
}

void pipe_decode_i16(const int16_t *src, long n, int scaled, double slope, double intercept, float *dst) {
#if defined(__x86_64__)
    const int path = pipe_kernels_path();
    if (path >= 2) { decode_i16_avx512(src, n, scaled, slope, intercept, dst); return; }
    if (path == 1) { decode_i16_avx2(src, n, scaled, slope, intercept, dst); return; }
#endif
    decode_i16_body(src, n, scaled, slope, intercept, dst);
}
