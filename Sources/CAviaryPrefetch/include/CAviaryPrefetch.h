#ifndef AVIARY_PREFETCH_H
#define AVIARY_PREFETCH_H

/// Asks the CPU to bring the cache line at `address` in for a write soon, without waiting
/// for it: for a lookup whose address is known well before its result is needed (the path
/// index slot of the next znode in a snapshot). Only a hint; never faults.
static inline void aviary_prefetch_for_write(const void *address) {
    __builtin_prefetch(address, 1, 3);
}

#endif
