// SHA-256 compression with the x86 SHA extensions (after Intel's published sample code by
// Sean Gulley). The Swift layer (FCS.SHA256) uses it when the CPU has them and falls back to
// its portable implementation otherwise.
#include "csha256.h"

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#include <cpuid.h>

int csha256_hardware_available(void) {
    unsigned int a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    int sha = (b >> 29) & 1;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int sse41 = (c >> 19) & 1, ssse3 = (c >> 9) & 1;
    return sha && sse41 && ssse3;
}

__attribute__((target("sha,sse4.1,ssse3")))
void csha256_compress_hardware(uint32_t state[8], const uint8_t *data, size_t blocks) {
    __m128i STATE0, STATE1, MSG, TMP, MSG0, MSG1, MSG2, MSG3, ABEF_SAVE, CDGH_SAVE;
    const __m128i MASK = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);

    TMP = _mm_loadu_si128((const __m128i *)&state[0]);
    STATE1 = _mm_loadu_si128((const __m128i *)&state[4]);
    TMP = _mm_shuffle_epi32(TMP, 0xB1);
    STATE1 = _mm_shuffle_epi32(STATE1, 0x1B);
    STATE0 = _mm_alignr_epi8(TMP, STATE1, 8);
    STATE1 = _mm_blend_epi16(STATE1, TMP, 0xF0);

    while (blocks--) {
        ABEF_SAVE = STATE0;
        CDGH_SAVE = STATE1;

#define ROUND4(msg, k1, k0) \
        MSG = _mm_add_epi32(msg, _mm_set_epi64x(k1, k0)); \
        STATE1 = _mm_sha256rnds2_epu32(STATE1, STATE0, MSG); \
        MSG = _mm_shuffle_epi32(MSG, 0x0E); \
        STATE0 = _mm_sha256rnds2_epu32(STATE0, STATE1, MSG);

        MSG0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 0)), MASK);
        ROUND4(MSG0, 0xE9B5DBA5B5C0FBCFULL, 0x71374491428A2F98ULL)
        MSG1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 16)), MASK);
        ROUND4(MSG1, 0xAB1C5ED5923F82A4ULL, 0x59F111F13956C25BULL)
        MSG0 = _mm_sha256msg1_epu32(MSG0, MSG1);
        MSG2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 32)), MASK);
        ROUND4(MSG2, 0x550C7DC3243185BEULL, 0x12835B01D807AA98ULL)
        MSG1 = _mm_sha256msg1_epu32(MSG1, MSG2);
        MSG3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 48)), MASK);

#define SCHEDULE(a, b, c, d) \
        TMP = _mm_alignr_epi8(d, c, 4); \
        a = _mm_add_epi32(a, TMP); \
        a = _mm_sha256msg2_epu32(a, d);

        // Rounds 12-15
        MSG = _mm_add_epi32(MSG3, _mm_set_epi64x(0xC19BF1749BDC06A7ULL, 0x80DEB1FE72BE5D74ULL));
        STATE1 = _mm_sha256rnds2_epu32(STATE1, STATE0, MSG);
        SCHEDULE(MSG0, MSG1, MSG2, MSG3)
        MSG = _mm_shuffle_epi32(MSG, 0x0E);
        STATE0 = _mm_sha256rnds2_epu32(STATE0, STATE1, MSG);
        MSG2 = _mm_sha256msg1_epu32(MSG2, MSG3);

#define ROUND4S(cur, k1, k0, a, b, c, nxt) \
        MSG = _mm_add_epi32(cur, _mm_set_epi64x(k1, k0)); \
        STATE1 = _mm_sha256rnds2_epu32(STATE1, STATE0, MSG); \
        SCHEDULE(a, b, c, cur) \
        MSG = _mm_shuffle_epi32(MSG, 0x0E); \
        STATE0 = _mm_sha256rnds2_epu32(STATE0, STATE1, MSG); \
        nxt = _mm_sha256msg1_epu32(nxt, cur);

        ROUND4S(MSG0, 0x240CA1CC0FC19DC6ULL, 0xEFBE4786E49B69C1ULL, MSG1, MSG2, MSG3, MSG3)
        ROUND4S(MSG1, 0x76F988DA5CB0A9DCULL, 0x4A7484AA2DE92C6FULL, MSG2, MSG3, MSG0, MSG0)
        ROUND4S(MSG2, 0xBF597FC7B00327C8ULL, 0xA831C66D983E5152ULL, MSG3, MSG0, MSG1, MSG1)
        ROUND4S(MSG3, 0x1429296706CA6351ULL, 0xD5A79147C6E00BF3ULL, MSG0, MSG1, MSG2, MSG2)
        ROUND4S(MSG0, 0x53380D134D2C6DFCULL, 0x2E1B213827B70A85ULL, MSG1, MSG2, MSG3, MSG3)
        ROUND4S(MSG1, 0x92722C8581C2C92EULL, 0x766A0ABB650A7354ULL, MSG2, MSG3, MSG0, MSG0)
        ROUND4S(MSG2, 0xC76C51A3C24B8B70ULL, 0xA81A664BA2BFE8A1ULL, MSG3, MSG0, MSG1, MSG1)
        ROUND4S(MSG3, 0x106AA070F40E3585ULL, 0xD6990624D192E819ULL, MSG0, MSG1, MSG2, MSG2)
        ROUND4S(MSG0, 0x34B0BCB52748774CULL, 0x1E376C0819A4C116ULL, MSG1, MSG2, MSG3, MSG3)

        // Rounds 52-55
        MSG = _mm_add_epi32(MSG1, _mm_set_epi64x(0x682E6FF35B9CCA4FULL, 0x4ED8AA4A391C0CB3ULL));
        STATE1 = _mm_sha256rnds2_epu32(STATE1, STATE0, MSG);
        SCHEDULE(MSG2, MSG3, MSG0, MSG1)
        MSG = _mm_shuffle_epi32(MSG, 0x0E);
        STATE0 = _mm_sha256rnds2_epu32(STATE0, STATE1, MSG);
        // Rounds 56-59
        MSG = _mm_add_epi32(MSG2, _mm_set_epi64x(0x8CC7020884C87814ULL, 0x78A5636F748F82EEULL));
        STATE1 = _mm_sha256rnds2_epu32(STATE1, STATE0, MSG);
        SCHEDULE(MSG3, MSG0, MSG1, MSG2)
        MSG = _mm_shuffle_epi32(MSG, 0x0E);
        STATE0 = _mm_sha256rnds2_epu32(STATE0, STATE1, MSG);
        // Rounds 60-63
        ROUND4(MSG3, 0xC67178F2BEF9A3F7ULL, 0xA4506CEB90BEFFFAULL)

        STATE0 = _mm_add_epi32(STATE0, ABEF_SAVE);
        STATE1 = _mm_add_epi32(STATE1, CDGH_SAVE);
        data += 64;
    }

    TMP = _mm_shuffle_epi32(STATE0, 0x1B);
    STATE1 = _mm_shuffle_epi32(STATE1, 0xB1);
    STATE0 = _mm_blend_epi16(TMP, STATE1, 0xF0);
    STATE1 = _mm_alignr_epi8(STATE1, TMP, 8);
    _mm_storeu_si128((__m128i *)&state[0], STATE0);
    _mm_storeu_si128((__m128i *)&state[4], STATE1);
}
#else
int csha256_hardware_available(void) { return 0; }
void csha256_compress_hardware(uint32_t state[8], const uint8_t *data, size_t blocks) { (void)state; (void)data; (void)blocks; }
#endif
