// Adler-32 (RFC 1950), the checksum ZooKeeper puts on every log record and snapshot file.
//
// Where the CPU has AVX2, 32 bytes a step: the byte sum of a block comes from SAD against
// zero, its weighted sum (weights 32 down to 1) from a multiply-add of bytes and then of
// 16-bit pairs, and the 32 times the running `a` that each block adds to `b` is accumulated
// lane-wise and applied once per run of blocks. The scalar way does eight bytes a step.
#include "CAviaryChecksums.h"

#define ADLER_MODULUS 65521u
/// Bytes that can be summed before the 32-bit sums could overflow (zlib's NMAX).
#define ADLER_RUN 5552u

static int have_avx2;

__attribute__((constructor)) static void aviary_adler32_detect(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    have_avx2 = __builtin_cpu_supports("avx2");
#endif
}

static uint32_t adler32_scalar(uint32_t adler, const unsigned char *p, size_t length) {
    uint32_t a = adler & 0xFFFF, b = adler >> 16;
    while (length > 0) {
        size_t run = length < ADLER_RUN ? length : ADLER_RUN;
        length -= run;
        while (run >= 8) {
            b += 8 * a + 8 * p[0] + 7 * p[1] + 6 * p[2] + 5 * p[3] + 4 * p[4] + 3 * p[5] + 2 * p[6] + p[7];
            a += p[0] + p[1] + p[2] + p[3] + p[4] + p[5] + p[6] + p[7];
            p += 8;
            run -= 8;
        }
        while (run--) {
            a += *p++;
            b += a;
        }
        a %= ADLER_MODULUS;
        b %= ADLER_MODULUS;
    }
    return b << 16 | a;
}

uint32_t aviary_adler32_portable(uint32_t adler, const void *bytes, size_t length) {
    return adler32_scalar(adler, bytes, length);
}

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx2")))
static uint32_t adler32_avx2(uint32_t adler, const unsigned char *p, size_t length) {
    uint32_t a = adler & 0xFFFF, b = adler >> 16;
    const __m256i weights = _mm256_setr_epi8(32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17,
                                             16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1);
    const __m256i ones = _mm256_set1_epi16(1);
    const __m256i zero = _mm256_setzero_si256();
    while (length >= 32) {
        // Whole blocks of 32 within one run.
        size_t blocks = (length < ADLER_RUN ? length : ADLER_RUN) / 32;
        length -= blocks * 32;
        __m256i sums = _mm256_setzero_si256();     // a's gains, lane-wise
        __m256i weighted = _mm256_setzero_si256(); // the blocks' weighted sums
        __m256i earlier = _mm256_setzero_si256();  // sum over blocks of `sums` before each
        size_t n = blocks;
        while (n--) {
            __m256i v = _mm256_loadu_si256((const __m256i *)p);
            earlier = _mm256_add_epi32(earlier, sums);
            sums = _mm256_add_epi32(sums, _mm256_sad_epu8(v, zero));
            weighted = _mm256_add_epi32(weighted, _mm256_madd_epi16(_mm256_maddubs_epi16(v, weights), ones));
            p += 32;
        }
        // b gains 32 a per block, 32 times each earlier block's bytes, and the weighted sums.
        __m256i gain = _mm256_add_epi32(_mm256_slli_epi32(earlier, 5), weighted);
        uint32_t lanes[8], bytes[8];
        _mm256_storeu_si256((__m256i *)lanes, gain);
        _mm256_storeu_si256((__m256i *)bytes, sums);
        uint64_t bGain = 0, aGain = 0;
        for (int i = 0; i < 8; i++) {
            bGain += lanes[i];
            aGain += bytes[i];
        }
        b = (uint32_t)(((uint64_t)b + (uint64_t)a * 32 * blocks + bGain) % ADLER_MODULUS);
        a = (uint32_t)(((uint64_t)a + aGain) % ADLER_MODULUS);
    }
    return adler32_scalar(b << 16 | a, p, length);
}
#endif

uint32_t aviary_adler32(uint32_t adler, const void *bytes, size_t length) {
#if defined(__x86_64__)
    if (have_avx2 && length >= 64) return adler32_avx2(adler, bytes, length);
#endif
    return adler32_scalar(adler, bytes, length);
}
