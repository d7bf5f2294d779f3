#ifndef PIPE_WRITEBACK_H
#define PIPE_WRITEBACK_H

/// Starts writing the file's dirty pages to disk and returns without waiting (Linux
/// `sync_file_range(SYNC_FILE_RANGE_WRITE)`; a no-op elsewhere). Not a durability guarantee: the
/// caller still fsyncs, but the fsyncs of files started together then wait for one batch of
/// writes instead of one round trip each. 0 on success, -1 with errno set.
int pipe_start_writeback(const char *path);

#endif
