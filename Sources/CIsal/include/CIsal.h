#ifndef CISAL_H
#define CISAL_H

#include <stdint.h>

/// ISA-L's gzip inflate (igzip), loaded at run time: a build made without ISA-L's header, or a
/// machine without libisal.so.2, reports it unavailable and pipe inflates with zlib.
typedef struct pipe_isal pipe_isal;

/// 1 when ISA-L's inflate can be used, else 0.
int pipe_isal_available(void);
/// A gzip inflate stream ready for its first member; NULL when unavailable or out of memory.
pipe_isal *pipe_isal_create(void);
void pipe_isal_destroy(pipe_isal *s);
/// Ready for the next gzip member.
void pipe_isal_reset(pipe_isal *s);
/// Inflates from *next_in/*avail_in into *next_out/*avail_out, advancing them. Returns 0 while the
/// member goes on, 1 when it ended (trailer CRC-32 and length checked), a negative ISA-L error
/// (-1 invalid block, -2 invalid symbol, -3 invalid lookback, -4 invalid wrapper, -5 unsupported
/// method, -6 incorrect checksum) otherwise.
int pipe_isal_inflate(pipe_isal *s, const uint8_t **next_in, uint32_t *avail_in, uint8_t **next_out, uint32_t *avail_out);

#endif
