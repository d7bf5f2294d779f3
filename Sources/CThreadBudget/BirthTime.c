#define _GNU_SOURCE
#include "BirthTime.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

int pipe_stat_birth(int dirfd, const char *path, unsigned long long *device, unsigned long long *inode, long long *birth_ns) {
#if defined(__linux__) && defined(STATX_BTIME)
    struct statx sx;
    if (statx(dirfd, path, 0, STATX_INO | STATX_BTIME, &sx) != 0) return -1;
    *device = (unsigned long long)makedev(sx.stx_dev_major, sx.stx_dev_minor);
    *inode = sx.stx_ino;
    *birth_ns = (sx.stx_mask & STATX_BTIME) ? (long long)sx.stx_btime.tv_sec * 1000000000LL + sx.stx_btime.tv_nsec : PIPE_NO_BIRTH_TIME;
    return 0;
#else
    struct stat st;
    if (fstatat(dirfd, path, &st, 0) != 0) return -1;
    *device = (unsigned long long)st.st_dev;
    *inode = (unsigned long long)st.st_ino;
    *birth_ns = PIPE_NO_BIRTH_TIME;
    return 0;
#endif
}
