// Step 2 of exact TFCE (see TFCEWorkspace.swift): each rank's earlier neighbours of the same sign.
#include "CKernels.h"
#include <stdint.h>

void pipe_tfce_rank_neighbors(const int32_t *table, const int32_t *rank_of, long voxels, int degree, int32_t split, int32_t *neighbors) {
    // Voxel order: the table streams and rank_of is read near the diagonal; the row of each rank
    // lands at a random place, so the row `ahead` voxels on is prefetched for writing: the
    // write misses then overlap instead of queueing behind each other.
    const long ahead = 16;
    for (long i = 0; i < voxels; i++) {
        if (i + ahead < voxels) {
            int32_t c = rank_of[i + ahead];
            if (c != INT32_MAX) __builtin_prefetch(neighbors + (long)c * degree, 1, 0);
        }
        int32_t c = rank_of[i];
        if (c == INT32_MAX) continue;
        // Same-sign ranks form one block: [0, split) positive, [split, m) negative. Compared
        // unsigned, x − lo < r − lo holds exactly for neighbours of the voxel's block with a
        // smaller rank: the other block and excluded voxels (INT32_MAX) wrap or land above.
        // Branch-free: which neighbours qualify is random in a noise map, so branches would
        // mispredict half the time.
        uint32_t r = (uint32_t)c;
        uint32_t lo = c >= split ? (uint32_t)split : 0;
        uint32_t span = r - lo;
        int32_t *row = neighbors + (long)r * degree;
        const int32_t *tr = table + i * degree;
        int k = 0;
        for (int j = 0; j < degree; j++) {
            int32_t q = tr[j];
            uint32_t x = (uint32_t)rank_of[q < 0 ? i : q];  // padding reads the voxel itself: x = r
            row[k] = (int32_t)x;
            k += x - lo < span;
        }
        if (k < degree) row[k] = -1;
    }
}

// Step 1 of exact TFCE: the sort keys and the descending stable LSD radix sort (see
// TFCEWorkspace.swift for the key). Branch-free key building; the top digit (sign flag, exponent
// and two mantissa bits: a few dozen buckets for a whole map) is counted in four interleaved
// histograms, so that neighbouring voxels in one bucket do not wait on each other's increments.
long pipe_tfce_sort(const double *map, long v, int two_sided, uint64_t *records, uint64_t *scratch,
                    long *hist, long *positives, int *float_exact, int *in_scratch) {
    long m = 0, pos = 0;
    int exact = 1;
    long *h0 = hist, *h1 = hist + 2048, *h2 = hist + 4096, *top4 = hist + 3 * 2048;
    for (long b = 0; b < 7 * 2048; b++) hist[b] = 0;
    for (long i = 0; i < v; i++) {
        double t = map[i];
        double u = two_sided ? __builtin_fabs(t) : t;
        if (!(u > 0)) continue;  // also drops NaN
        float f = (float)u;
        exact &= (double)f == u;
        uint32_t fb;
        __builtin_memcpy(&fb, &f, 4);
        uint64_t neg = t < 0;
        uint64_t key = (uint64_t)fb | ((neg ^ 1) << 31);
        records[m] = key << 32 | (uint64_t)i | (neg << 31);
        pos += t > 0;
        h0[2047 - (long)(key & 0x7FF)]++;
        h1[2047 - (long)((key >> 11) & 0x7FF)]++;
        top4[(m & 3) * 2048 + 2047 - (long)((key >> 22) & 0x7FF)]++;
        m++;
    }
    for (int b = 0; b < 2048; b++) h2[b] = top4[b] + top4[2048 + b] + top4[4096 + b] + top4[6144 + b];
    uint64_t *src = records, *dst = scratch;
    for (int pass = 0; pass < 3; pass++) {
        long *h = hist + pass * 2048;
        int nonzero = 0;
        for (int b = 0; b < 2048; b++) nonzero += h[b] != 0;
        if (nonzero <= 1) continue;  // a constant digit leaves the order as it is
        long sum = 0;
        for (int b = 0; b < 2048; b++) { long c = h[b]; h[b] = sum; sum += c; }
        int shift = 32 + 11 * pass;
        for (long j = 0; j < m; j++) {
            uint64_t rec = src[j];
            long b = 2047 - (long)((rec >> shift) & 0x7FF);
            dst[h[b]++] = rec;
        }
        uint64_t *tmp = src; src = dst; dst = tmp;
    }
    *positives = pos;
    *float_exact = exact;
    *in_scratch = src != records;
    return m;
}
