#ifndef PIPE_CZLIB_H
#define PIPE_CZLIB_H

#include <zlib.h>
#include <stdlib.h>

// Small shims over zlib's function-like macros, which Swift cannot call directly.
// `windowBits` 15 + 16 selects the gzip wrapper (header and CRC-32/ISIZE trailer).

static inline int pipe_inflate_init_gzip(z_streamp strm) {
    return inflateInit2(strm, 15 + 16);
}

/// `run_length`: Z_RLE (matches at distance 1 only), else Z_DEFAULT_STRATEGY.
static inline int pipe_deflate_init_gzip(z_streamp strm, int level, int run_length) {
    return deflateInit2(strm, level, Z_DEFLATED, 15 + 16, 8, run_length ? Z_RLE : Z_DEFAULT_STRATEGY);
}

/// Heap-allocates a zeroed z_stream, so that zlib's internal back-pointer stays valid.
static inline z_streamp pipe_zstream_create(void) {
    return (z_streamp)calloc(1, sizeof(z_stream));
}

static inline void pipe_zstream_destroy(z_streamp strm) {
    free(strm);
}

#endif
