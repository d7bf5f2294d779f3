// Step 2 of exact TFCE (see TFCEWorkspace.swift): each rank's earlier neighbours of the same sign.
#include "CKernels.h"
#include <stdint.h>

void pipe_tfce_rank_neighbors(const int32_t *table, const int32_t *rank_of, long voxels, int degree, int32_t *neighbors) {
    // Voxel order: the table streams and rank_of is read near the diagonal; the row of each rank
    // lands at a random place, so the row `ahead` voxels on is prefetched for writing: the
    // write misses then overlap instead of queueing behind each other.
    const long ahead = 16;
    for (long i = 0; i < voxels; i++) {
        if (i + ahead < voxels) {
            int32_t c = rank_of[i + ahead];
            if (c != INT32_MAX) __builtin_prefetch(neighbors + (long)((uint32_t)c ^ (uint32_t)(c >> 31)) * degree, 1, 0);
        }
        int32_t c = rank_of[i];
        if (c == INT32_MAX) continue;
        // Ranks of the voxel's sign: x = cq for a positive voxel, ~cq = −1 − cq for a negative one.
        // Compared unsigned, x < r holds exactly for same-sign neighbours of smaller rank: the other
        // sign and excluded voxels (INT32_MAX) map to values ≥ 2^31 − 1, above every rank. Branch-free: which neighbours
        // qualify is random in a noise map, so branches would mispredict half the time.
        uint32_t flip = (uint32_t)(c >> 31);
        uint32_t r = (uint32_t)c ^ flip;
        int32_t *row = neighbors + (long)r * degree;
        const int32_t *tr = table + i * degree;
        int k = 0;
        for (int j = 0; j < degree; j++) {
            int32_t q = tr[j];
            uint32_t x = (uint32_t)rank_of[q < 0 ? i : q] ^ flip;  // padding reads the voxel itself: x = r
            row[k] = (int32_t)x;
            k += x < r;
        }
        if (k < degree) row[k] = -1;
    }
}
