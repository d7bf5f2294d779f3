#define _GNU_SOURCE
#include "Writeback.h"
#include <fcntl.h>
#include <unistd.h>

int pipe_start_writeback(const char *path) {
#ifdef __linux__
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    int r = sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
    close(fd);
    return r;
#else
    (void)path;
    return 0;
#endif
}
