#ifndef AVIARY_CRC32_H
#define AVIARY_CRC32_H
#include <stddef.h>
#include <stdint.h>

/// Continues the CRC-32 (zlib's and java.util.zip.CRC32's polynomial) `crc` over `length`
/// bytes at `bytes`; start with 0.
uint32_t aviary_crc32(uint32_t crc, const void *bytes, size_t length);

#endif
