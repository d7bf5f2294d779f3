#ifndef PIPE_BIRTH_TIME_H
#define PIPE_BIRTH_TIME_H

/// What `pipe_stat_birth` gives when the file system records no birth time.
#define PIPE_NO_BIRTH_TIME (-9223372036854775807LL - 1)

/// The device, inode and birth time (ns since 1970) of `path` relative to the directory `dirfd`,
/// following symlinks (Linux `statx`; `fstatat` and no birth time elsewhere). A file system that
/// hands a deleted file's inode number to a new file gives the new file a new birth time, which
/// an inode number alone cannot tell apart. 0 on success, -1 with errno set.
int pipe_stat_birth(int dirfd, const char *path, unsigned long long *device, unsigned long long *inode, long long *birth_ns);

#endif
