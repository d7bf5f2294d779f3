// SHA-256 (FIPS 180-4): the cache's content hash. With the x86 SHA extensions where the CPU has
// them (chosen at run time), else portable C; both give the same digest.
#ifndef PIPE_CSHA256_H
#define PIPE_CSHA256_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t state[8];
    uint64_t length;      // bytes hashed so far
    uint8_t buffer[64];   // a partial block
    uint32_t used;        // bytes in buffer
} pipe_sha256_ctx;

void pipe_sha256_init(pipe_sha256_ctx *ctx);
void pipe_sha256_update(pipe_sha256_ctx *ctx, const void *data, size_t count);
void pipe_sha256_final(pipe_sha256_ctx *ctx, uint8_t digest[32]);

// Whether the SHA extensions are used; `pipe_sha256_force_portable(1)` turns them off for this
// process (tests compare the two paths).
int pipe_sha256_accelerated(void);
void pipe_sha256_force_portable(int on);

#endif
