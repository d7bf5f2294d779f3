#include "CIsal.h"

#include <stdlib.h>

#if __has_include(<isa-l/igzip_lib.h>)
#include <dlfcn.h>
#include <pthread.h>
#include <isa-l/igzip_lib.h>

struct pipe_isal { struct inflate_state state; };

static void (*p_init)(struct inflate_state *);
static void (*p_reset)(struct inflate_state *);
static int (*p_inflate)(struct inflate_state *);
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void) {
    void *lib = dlopen("libisal.so.2", RTLD_NOW | RTLD_LOCAL);
    if (!lib) return;
    p_init = (void (*)(struct inflate_state *))dlsym(lib, "isal_inflate_init");
    p_reset = (void (*)(struct inflate_state *))dlsym(lib, "isal_inflate_reset");
    p_inflate = (int (*)(struct inflate_state *))dlsym(lib, "isal_inflate");
    if (!p_init || !p_reset || !p_inflate) { p_init = 0; p_reset = 0; p_inflate = 0; }
}

int pipe_isal_available(void) {
    pthread_once(&once, load);
    return p_inflate != 0;
}

pipe_isal *pipe_isal_create(void) {
    if (!pipe_isal_available()) return 0;
    pipe_isal *s = malloc(sizeof *s);
    if (!s) return 0;
    p_init(&s->state);
    s->state.crc_flag = ISAL_GZIP;
    return s;
}

void pipe_isal_destroy(pipe_isal *s) { free(s); }

void pipe_isal_reset(pipe_isal *s) {
    p_reset(&s->state);
    s->state.crc_flag = ISAL_GZIP;
}

int pipe_isal_inflate(pipe_isal *s, const uint8_t **next_in, uint32_t *avail_in, uint8_t **next_out, uint32_t *avail_out) {
    s->state.next_in = (uint8_t *)*next_in;
    s->state.avail_in = *avail_in;
    s->state.next_out = *next_out;
    s->state.avail_out = *avail_out;
    int status = p_inflate(&s->state);
    *next_in = s->state.next_in;
    *avail_in = s->state.avail_in;
    *next_out = s->state.next_out;
    *avail_out = s->state.avail_out;
    if (status < 0) return status;
    return s->state.block_state == ISAL_BLOCK_FINISH ? 1 : 0;
}

#else

int pipe_isal_available(void) { return 0; }
pipe_isal *pipe_isal_create(void) { return 0; }
void pipe_isal_destroy(pipe_isal *s) { (void)s; }
void pipe_isal_reset(pipe_isal *s) { (void)s; }
int pipe_isal_inflate(pipe_isal *s, const uint8_t **a, uint32_t *b, uint8_t **c, uint32_t *d) {
    (void)s; (void)a; (void)b; (void)c; (void)d;
    return -4;
}

#endif
