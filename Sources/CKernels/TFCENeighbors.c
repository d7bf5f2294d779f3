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
