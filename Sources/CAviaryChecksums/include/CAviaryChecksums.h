#ifndef AVIARY_CHECKSUMS_H
#define AVIARY_CHECKSUMS_H
#include <stddef.h>
#include <stdint.h>

/// Continues the CRC-32 (zlib's and java.util.zip.CRC32's polynomial) `crc` over `length`
/// bytes at `bytes`; start with 0. Uses carry-less multiplication where the CPU has it.
uint32_t aviary_crc32(uint32_t crc, const void *bytes, size_t length);

/// The same CRC-32 a byte table at a time, whatever the CPU: the reference the fast path is
/// tested against.
uint32_t aviary_crc32_portable(uint32_t crc, const void *bytes, size_t length);

/// Continues the Adler-32 `adler` (zlib's, java.util.zip.Adler32's) over `length` bytes at
/// `bytes`; start with 1. Uses 256-bit vectors where the CPU has them.
uint32_t aviary_adler32(uint32_t adler, const void *bytes, size_t length);

/// The same Adler-32 without vectors: the reference the fast path is tested against.
uint32_t aviary_adler32_portable(uint32_t adler, const void *bytes, size_t length);

#endif
