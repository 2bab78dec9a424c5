#ifndef AVIARY_WRITEBACK_H
#define AVIARY_WRITEBACK_H

#include <stdint.h>

/// Starts writing the dirty pages of `length` bytes at `offset` of file `descriptor` to disk
/// without waiting for them (Linux `sync_file_range` with `SYNC_FILE_RANGE_WRITE`), so that
/// a large file written in pieces has little left to flush at its final fsync. Not a
/// durability guarantee: the fsync still decides. Returns 0, or -1 where it is not available.
int aviary_start_writeback(int descriptor, int64_t offset, int64_t length);

#endif
