// Limits glibc to one malloc arena before any thread starts.
//
// Aviary's server allocates almost only on the core's event loop; the snapshot is loaded on
// a worker thread, whose secondary arena glibc grows a page or so per mprotect call, which
// cost a tenth of the time to load a million znodes. One arena grows with brk in large steps.
// This runs as a constructor because arenas are bound to threads on their first malloc.
#include "CAviaryMalloc.h"
#include <stdlib.h>  // defines __GLIBC__ on glibc

#if defined(__GLIBC__)
#include <malloc.h>

static int arena_limit = 0;

__attribute__((constructor)) static void aviary_limit_malloc_arenas(void) {
    if (mallopt(M_ARENA_MAX, 1) == 1) {
        arena_limit = 1;
    }
}

int aviary_malloc_arena_limit(void) { return arena_limit; }
#else
int aviary_malloc_arena_limit(void) { return 0; }
#endif
