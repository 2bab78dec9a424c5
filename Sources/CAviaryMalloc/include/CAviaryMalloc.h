#ifndef C_AVIARY_MALLOC_H
#define C_AVIARY_MALLOC_H

/// The number of malloc arenas the process was limited to at start (0 where not glibc).
int aviary_malloc_arena_limit(void);

#endif
