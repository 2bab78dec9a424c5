// CRC-32 (reflected polynomial 0xEDB88320, as zlib and java.util.zip.CRC32).
//
// Two ways: eight bytes a step through tables ("slicing by 8"), and, where the CPU has
// PCLMULQDQ, folding 64 bytes a step with carry-less multiplication (Gopal et al., "Fast CRC
// Computation for Generic Polynomials Using PCLMULQDQ Instruction", Intel, 2009), which the
// tree digest of a million znodes spends most of a SNAP catch-up's checksum time on otherwise.
#include "CAviaryChecksums.h"
#include <string.h>

static uint32_t table[8][256];
static int have_pclmul;

__attribute__((constructor)) static void aviary_crc32_tables(void) {
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[0][n] = c;
    }
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = table[0][n];
        for (int k = 1; k < 8; k++) {
            c = table[0][c & 0xFF] ^ (c >> 8);
            table[k][n] = c;
        }
    }
#if defined(__x86_64__)
    __builtin_cpu_init();
    have_pclmul = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
#endif
}

/// The table way on the inverted register `c` (what zlib calls the CRC before its final "~").
static uint32_t crc32_tables(uint32_t c, const unsigned char *p, size_t length) {
    while (length >= 8) {
        uint32_t low, high;
        memcpy(&low, p, 4);
        memcpy(&high, p + 4, 4);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        low = __builtin_bswap32(low);
        high = __builtin_bswap32(high);
#endif
        low ^= c;
        c = table[7][low & 0xFF] ^ table[6][(low >> 8) & 0xFF] ^ table[5][(low >> 16) & 0xFF] ^ table[4][low >> 24]
          ^ table[3][high & 0xFF] ^ table[2][(high >> 8) & 0xFF] ^ table[1][(high >> 16) & 0xFF] ^ table[0][high >> 24];
        p += 8;
        length -= 8;
    }
    while (length--) c = table[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
    return c;
}

uint32_t aviary_crc32_portable(uint32_t crc, const void *bytes, size_t length) {
    return ~crc32_tables(~crc, bytes, length);
}

#if defined(__x86_64__)
#include <immintrin.h>

/// Folds `length` bytes (at least 64, a multiple of 16) into the inverted register `c`.
///
/// Four 128-bit lanes are each multiplied forward by x^512 (mod P) and the next 64 bytes added,
/// then the lanes are folded into one by x^128, the rest 16 bytes a step, and the 128-bit
/// remainder reduced to 32 bits (by 64 bits, then Barrett). The constants are those powers of x
/// modulo P, bit-reflected, as the paper derives them for this polynomial.
__attribute__((target("pclmul,sse4.1")))
static uint32_t crc32_folded(uint32_t c, const unsigned char *p, size_t length) {
    const __m128i x512 = _mm_set_epi64x(0x01c6e41596, 0x0154442bd4);
    const __m128i x128 = _mm_set_epi64x(0x00ccaa009e, 0x01751997d0);
    const __m128i x64 = _mm_set_epi64x(0, 0x0163cd6124);
    const __m128i barrett = _mm_set_epi64x(0x01f7011641, 0x01db710641);
    const __m128i low32 = _mm_setr_epi32(-1, 0, -1, 0);

    __m128i l0 = _mm_loadu_si128((const __m128i *)(p + 0));
    __m128i l1 = _mm_loadu_si128((const __m128i *)(p + 16));
    __m128i l2 = _mm_loadu_si128((const __m128i *)(p + 32));
    __m128i l3 = _mm_loadu_si128((const __m128i *)(p + 48));
    l0 = _mm_xor_si128(l0, _mm_cvtsi32_si128((int)c));
    p += 64;
    length -= 64;

    while (length >= 64) {
        __m128i t0 = _mm_clmulepi64_si128(l0, x512, 0x00);
        __m128i t1 = _mm_clmulepi64_si128(l1, x512, 0x00);
        __m128i t2 = _mm_clmulepi64_si128(l2, x512, 0x00);
        __m128i t3 = _mm_clmulepi64_si128(l3, x512, 0x00);
        l0 = _mm_clmulepi64_si128(l0, x512, 0x11);
        l1 = _mm_clmulepi64_si128(l1, x512, 0x11);
        l2 = _mm_clmulepi64_si128(l2, x512, 0x11);
        l3 = _mm_clmulepi64_si128(l3, x512, 0x11);
        l0 = _mm_xor_si128(_mm_xor_si128(l0, t0), _mm_loadu_si128((const __m128i *)(p + 0)));
        l1 = _mm_xor_si128(_mm_xor_si128(l1, t1), _mm_loadu_si128((const __m128i *)(p + 16)));
        l2 = _mm_xor_si128(_mm_xor_si128(l2, t2), _mm_loadu_si128((const __m128i *)(p + 32)));
        l3 = _mm_xor_si128(_mm_xor_si128(l3, t3), _mm_loadu_si128((const __m128i *)(p + 48)));
        p += 64;
        length -= 64;
    }

    // The four lanes into one, then 16 bytes a step.
    __m128i t = _mm_clmulepi64_si128(l0, x128, 0x00);
    l0 = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(l0, x128, 0x11), t), l1);
    t = _mm_clmulepi64_si128(l0, x128, 0x00);
    l0 = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(l0, x128, 0x11), t), l2);
    t = _mm_clmulepi64_si128(l0, x128, 0x00);
    l0 = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(l0, x128, 0x11), t), l3);
    while (length >= 16) {
        t = _mm_clmulepi64_si128(l0, x128, 0x00);
        l0 = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(l0, x128, 0x11), t), _mm_loadu_si128((const __m128i *)p));
        p += 16;
        length -= 16;
    }

    // 128 bits to 64, then to 32 (Barrett).
    t = _mm_clmulepi64_si128(l0, x128, 0x10);
    l0 = _mm_xor_si128(_mm_srli_si128(l0, 8), t);
    t = _mm_srli_si128(l0, 4);
    l0 = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(l0, low32), x64, 0x00), t);
    t = _mm_clmulepi64_si128(_mm_and_si128(l0, low32), barrett, 0x10);
    t = _mm_clmulepi64_si128(_mm_and_si128(t, low32), barrett, 0x00);
    l0 = _mm_xor_si128(l0, t);
    return (uint32_t)_mm_extract_epi32(l0, 1);
}
#endif

uint32_t aviary_crc32(uint32_t crc, const void *bytes, size_t length) {
    const unsigned char *p = bytes;
    uint32_t c = ~crc;
#if defined(__x86_64__)
    if (have_pclmul && length >= 64) {
        size_t folded = length & ~(size_t)15;
        c = crc32_folded(c, p, folded);
        p += folded;
        length -= folded;
    }
#endif
    return ~crc32_tables(c, p, length);
}
