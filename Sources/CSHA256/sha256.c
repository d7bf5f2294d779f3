// SHA-256, FIPS 180-4. Two block functions give the same state: portable C, and the x86 SHA
// extensions (SHA-NI: sha256rnds2 does two rounds, sha256msg1/msg2 the message schedule), used
// when CPUID reports them.
#include "CSHA256.h"
#include <string.h>

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static inline uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

static void blocks_portable(uint32_t s[8], const uint8_t *p, size_t blocks) {
    uint32_t w[64];
    for (; blocks > 0; blocks--, p += 64) {
        for (int t = 0; t < 16; t++)
            w[t] = (uint32_t)p[4 * t] << 24 | (uint32_t)p[4 * t + 1] << 16 | (uint32_t)p[4 * t + 2] << 8 | p[4 * t + 3];
        for (int t = 16; t < 64; t++) {
            uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
            uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
            w[t] = w[t - 16] + s0 + w[t - 7] + s1;
        }
        uint32_t a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];
        for (int t = 0; t < 64; t++) {
            uint32_t t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[t] + w[t];
            uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
            h = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
        }
        s[0] += a; s[1] += b; s[2] += c; s[3] += d; s[4] += e; s[5] += f; s[6] += g; s[7] += h;
    }
}

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

__attribute__((target("sha,sse4.1,ssse3")))
static void blocks_shani(uint32_t s[8], const uint8_t *p, size_t blocks) {
    const __m128i swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    // The instructions keep the state as ABEF and CDGH.
    __m128i t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&s[0]), 0xB1);  // CDAB
    __m128i s1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&s[4]), 0x1B); // HGFE
    __m128i s0 = _mm_alignr_epi8(t, s1, 8);                                         // ABEF
    s1 = _mm_blend_epi16(s1, t, 0xF0);                                              // CDGH
    for (; blocks > 0; blocks--, p += 64) {
        const __m128i abef = s0, cdgh = s1;
        __m128i w[4];
        // Unrolled, so that the schedule's indices are constants and w stays in registers.
#pragma clang loop unroll(full)
        for (int j = 0; j < 16; j++) {
            __m128i cur;
            if (j < 4) {
                cur = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * j)), swap);
            } else {
                // W[t..t+3] = msg2(msg1(W[t-16..], W[t-12..]) + W[t-7..t-4], W[t-4..t-1])
                __m128i x = _mm_sha256msg1_epu32(w[j & 3], w[(j + 1) & 3]);
                x = _mm_add_epi32(x, _mm_alignr_epi8(w[(j + 3) & 3], w[(j + 2) & 3], 4));
                cur = _mm_sha256msg2_epu32(x, w[(j + 3) & 3]);
            }
            w[j & 3] = cur;
            __m128i m = _mm_add_epi32(cur, _mm_loadu_si128((const __m128i *)&K[4 * j]));
            s1 = _mm_sha256rnds2_epu32(s1, s0, m);
            s0 = _mm_sha256rnds2_epu32(s0, s1, _mm_shuffle_epi32(m, 0x0E));
        }
        s0 = _mm_add_epi32(s0, abef);
        s1 = _mm_add_epi32(s1, cdgh);
    }
    t = _mm_shuffle_epi32(s0, 0x1B);              // FEBA
    s1 = _mm_shuffle_epi32(s1, 0xB1);             // DCHG
    s0 = _mm_blend_epi16(t, s1, 0xF0);            // DCBA
    s1 = _mm_alignr_epi8(s1, t, 8);               // HGFE
    _mm_storeu_si128((__m128i *)&s[0], s0);
    _mm_storeu_si128((__m128i *)&s[4], s1);
}

static int cpu_has_shani(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int ssse3 = (c >> 9) & 1, sse41 = (c >> 19) & 1;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return ssse3 && sse41 && ((b >> 29) & 1);
}
#endif

// 0: not yet decided, 1: portable, 2: SHA extensions.
static int path = 0;

static int chosen(void) {
    int p = __atomic_load_n(&path, __ATOMIC_RELAXED);
    if (p == 0) {
#if defined(__x86_64__)
        p = cpu_has_shani() ? 2 : 1;
#else
        p = 1;
#endif
        __atomic_store_n(&path, p, __ATOMIC_RELAXED);
    }
    return p;
}

int pipe_sha256_accelerated(void) { return chosen() == 2; }

void pipe_sha256_force_portable(int on) { __atomic_store_n(&path, on ? 1 : 0, __ATOMIC_RELAXED); }

static void blocks(uint32_t s[8], const uint8_t *p, size_t n) {
#if defined(__x86_64__)
    if (chosen() == 2) { blocks_shani(s, p, n); return; }
#endif
    blocks_portable(s, p, n);
}

void pipe_sha256_init(pipe_sha256_ctx *ctx) {
    static const uint32_t h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(ctx->state, h0, sizeof h0);
    ctx->length = 0;
    ctx->used = 0;
}

void pipe_sha256_update(pipe_sha256_ctx *ctx, const void *data, size_t count) {
    const uint8_t *p = data;
    ctx->length += count;
    if (ctx->used > 0) {
        size_t take = 64 - ctx->used < count ? 64 - ctx->used : count;
        memcpy(ctx->buffer + ctx->used, p, take);
        ctx->used += (uint32_t)take; p += take; count -= take;
        if (ctx->used < 64) return;
        blocks(ctx->state, ctx->buffer, 1);
        ctx->used = 0;
    }
    if (count >= 64) {
        blocks(ctx->state, p, count / 64);
        p += count & ~(size_t)63; count &= 63;
    }
    if (count > 0) { memcpy(ctx->buffer, p, count); ctx->used = (uint32_t)count; }
}

void pipe_sha256_final(pipe_sha256_ctx *ctx, uint8_t digest[32]) {
    uint64_t bits = ctx->length * 8;
    uint8_t pad[72] = {0x80};
    size_t n = ctx->used < 56 ? 56 - ctx->used : 120 - ctx->used;
    for (int i = 0; i < 8; i++) pad[n + i] = (uint8_t)(bits >> (56 - 8 * i));
    uint64_t length = ctx->length;
    pipe_sha256_update(ctx, pad, n + 8);
    ctx->length = length;
    for (int i = 0; i < 8; i++) {
        digest[4 * i] = (uint8_t)(ctx->state[i] >> 24); digest[4 * i + 1] = (uint8_t)(ctx->state[i] >> 16);
        digest[4 * i + 2] = (uint8_t)(ctx->state[i] >> 8); digest[4 * i + 3] = (uint8_t)ctx->state[i];
    }
}
