// AVX2 versions of the gating evaluator's column kernels (Cytometry.EvaluationPlan and
// TabulatedInverse). The Swift layer checks ckernels_avx2_available() once and otherwise runs
// its own portable loops. Every kernel does the same IEEE operations, in the same order, as the
// Swift loop it replaces, so both paths give bit-identical values: contraction into fused
// multiply-adds is switched off for this file.
#include "ckernels.h"

#pragma clang fp contract(off)
#pragma STDC FP_CONTRACT OFF

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#include <cpuid.h>
#include <string.h>

int ckernels_avx2_available(void) {
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    int popcnt = (c >> 23) & 1;
    if (!osxsave || !avx || !popcnt) return 0;
    unsigned int lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 6) != 6) return 0;  // the OS saves the YMM state
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return (b >> 5) & 1;
}

__attribute__((target("avx2")))
long ckernels_cubic_table_avx2(const double *rows, long first_index, long segments, double zero,
                               const double *source, double *values, long count, long *outside) {
    const __m256d sign_mask = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7fffffffffffffffLL));
    const __m256i first = _mm256_set1_epi64x(first_index);
    const __m256i limit = _mm256_set1_epi64x(segments);
    const __m256d two_zero = _mm256_set1_pd(2 * zero);
    const __m256d zeros = _mm256_setzero_pd();
    const __m256i segment_mask = _mm256_set1_epi64x((long long)0xFFFFF00000000000ULL);
    const __m256i exponent_mask = _mm256_set1_epi64x((long long)0x7FF0000000000000ULL);
    const __m256i inverse_base = _mm256_set1_epi64x((long long)((uint64_t)(2 * 1023 + 8) << 52));
    long n_outside = 0;
    long e = 0;
    for (; e + 4 <= count; e += 4) {
        __m256d v = _mm256_loadu_pd(source + e);
        __m256d magnitude = _mm256_and_pd(v, sign_mask);
        __m256i index = _mm256_sub_epi64(_mm256_srli_epi64(_mm256_castpd_si256(magnitude), 44), first);
        // In the grid: 0 <= index < segments (index is at most 2^20, so signed compares suffice).
        __m256i inside = _mm256_andnot_si256(_mm256_cmpgt_epi64(_mm256_setzero_si256(), index), _mm256_cmpgt_epi64(limit, index));
        int inside_bits = _mm256_movemask_pd(_mm256_castsi256_pd(inside));
        __m256i safe = _mm256_and_si256(index, inside);
        // Four rows loaded whole and transposed (gathers are slower than this on the CPUs we have).
        int64_t lane[4];
        _mm256_storeu_si256((__m256i *)lane, safe);
        __m256d r0 = _mm256_load_pd(rows + lane[0] * 4), r1 = _mm256_load_pd(rows + lane[1] * 4);
        __m256d r2 = _mm256_load_pd(rows + lane[2] * 4), r3 = _mm256_load_pd(rows + lane[3] * 4);
        __m256d u0 = _mm256_unpacklo_pd(r0, r1), u1 = _mm256_unpackhi_pd(r0, r1);
        __m256d u2 = _mm256_unpacklo_pd(r2, r3), u3 = _mm256_unpackhi_pd(r2, r3);
        __m256d c0 = _mm256_permute2f128_pd(u0, u2, 0x20), c2 = _mm256_permute2f128_pd(u0, u2, 0x31);
        __m256d c1 = _mm256_permute2f128_pd(u1, u3, 0x20), c3 = _mm256_permute2f128_pd(u1, u3, 0x31);
        // A segment's start is the magnitude with the mantissa below the segment bits cleared, and
        // its inverse width 2^(8 − exponent): both exact, equal to the table's first two entries.
        __m256i bits = _mm256_castpd_si256(magnitude);
        __m256d start = _mm256_castsi256_pd(_mm256_and_si256(bits, segment_mask));
        __m256d inverse = _mm256_castsi256_pd(_mm256_sub_epi64(inverse_base, _mm256_and_si256(bits, exponent_mask)));
        __m256d x = _mm256_mul_pd(_mm256_sub_pd(magnitude, start), inverse);
        __m256d y = _mm256_add_pd(c2, _mm256_mul_pd(x, c3));
        y = _mm256_add_pd(c1, _mm256_mul_pd(x, y));
        y = _mm256_add_pd(c0, _mm256_mul_pd(x, y));
        __m256d negative = _mm256_cmp_pd(v, zeros, _CMP_LT_OQ);
        __m256d result = _mm256_blendv_pd(y, _mm256_sub_pd(two_zero, y), negative);
        if (inside_bits == 0xF) {
            _mm256_storeu_pd(values + e, result);
        } else {
            double lanes[4];
            _mm256_storeu_pd(lanes, result);
            for (int k = 0; k < 4; k++) {
                if (inside_bits & (1 << k)) values[e + k] = lanes[k];
                else outside[n_outside++] = e + k;
            }
        }
    }
    for (; e < count; e++) {
        double v = source[e];
        double magnitude = v < 0 ? -v : v;
        union { double d; uint64_t u; } bits = { magnitude };
        long index = (long)(bits.u >> 44) - first_index;
        if (index >= 0 && index < segments) {
            const double *t = rows + index * 4;
            union { uint64_t u; double d; } start = { bits.u & 0xFFFFF00000000000ULL };
            union { uint64_t u; double d; } inverse = { ((uint64_t)(2 * 1023 + 8) << 52) - (bits.u & 0x7FF0000000000000ULL) };
            double x = (magnitude - start.d) * inverse.d;
            double y = t[0] + x * (t[1] + x * (t[2] + x * t[3]));
            values[e] = v < 0 ? 2 * zero - y : y;
        } else {
            outside[n_outside++] = e;
        }
    }
    return n_outside;
}

__attribute__((target("avx2")))
void ckernels_compensate_avx2(double *target, const double *const *sources, const double *coefficients,
                              long terms, long count) {
    long e = 0;
    // Sixteen events per step: four independent sums, so the additions of one do not wait on another's.
    for (; e + 16 <= count; e += 16) {
        const __m256d c = _mm256_set1_pd(coefficients[0]);
        const double *s = sources[0] + e;
        __m256d s0 = _mm256_mul_pd(_mm256_loadu_pd(s), c), s1 = _mm256_mul_pd(_mm256_loadu_pd(s + 4), c);
        __m256d s2 = _mm256_mul_pd(_mm256_loadu_pd(s + 8), c), s3 = _mm256_mul_pd(_mm256_loadu_pd(s + 12), c);
        for (long k = 1; k < terms; k++) {
            const __m256d ck = _mm256_set1_pd(coefficients[k]);
            const double *sk = sources[k] + e;
            s0 = _mm256_add_pd(s0, _mm256_mul_pd(_mm256_loadu_pd(sk), ck));
            s1 = _mm256_add_pd(s1, _mm256_mul_pd(_mm256_loadu_pd(sk + 4), ck));
            s2 = _mm256_add_pd(s2, _mm256_mul_pd(_mm256_loadu_pd(sk + 8), ck));
            s3 = _mm256_add_pd(s3, _mm256_mul_pd(_mm256_loadu_pd(sk + 12), ck));
        }
        _mm256_storeu_pd(target + e, s0);
        _mm256_storeu_pd(target + e + 4, s1);
        _mm256_storeu_pd(target + e + 8, s2);
        _mm256_storeu_pd(target + e + 12, s3);
    }
    for (; e + 4 <= count; e += 4) {
        __m256d sum = _mm256_mul_pd(_mm256_loadu_pd(sources[0] + e), _mm256_set1_pd(coefficients[0]));
        for (long k = 1; k < terms; k++) {
            sum = _mm256_add_pd(sum, _mm256_mul_pd(_mm256_loadu_pd(sources[k] + e), _mm256_set1_pd(coefficients[k])));
        }
        _mm256_storeu_pd(target + e, sum);
    }
    for (; e < count; e++) {
        double sum = sources[0][e] * coefficients[0];
        for (long k = 1; k < terms; k++) sum = sum + sources[k][e] * coefficients[k];
        target[e] = sum;
    }
}

__attribute__((target("avx2")))
long ckernels_finish_mask_avx2(uint8_t *mask, const uint8_t *parent, int complement, long count) {
    const __m256i flip = _mm256_set1_epi8(complement ? 1 : 0);
    const __m256i zero = _mm256_setzero_si256();
    __m256i sums = _mm256_setzero_si256();
    long e = 0;
    // Thirty-two mask bytes per step; their sum by the sum of absolute differences from zero
    // (four 64-bit partial sums, which cannot overflow).
    for (; e + 32 <= count; e += 32) {
        __m256i x = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(mask + e)), flip);
        if (parent) x = _mm256_and_si256(x, _mm256_loadu_si256((const __m256i *)(parent + e)));
        _mm256_storeu_si256((__m256i *)(mask + e), x);
        sums = _mm256_add_epi64(sums, _mm256_sad_epu8(x, zero));
    }
    int64_t lanes[4];
    _mm256_storeu_si256((__m256i *)lanes, sums);
    long total = lanes[0] + lanes[1] + lanes[2] + lanes[3];
    const uint8_t byte_flip = complement ? 1 : 0;
    for (; e < count; e++) {
        uint8_t x = mask[e] ^ byte_flip;
        if (parent) x &= parent[e];
        mask[e] = x;
        total += x;
    }
    return total;
}

__attribute__((target("avx2,popcnt")))
long ckernels_rectangle_mask_avx2(const double *const *columns, const double *lows, const double *highs, long dims,
                                  const uint8_t *parent, int complement, uint8_t *mask, long count) {
    static const uint32_t spread[16] = {
        0x00000000, 0x00000001, 0x00000100, 0x00000101, 0x00010000, 0x00010001, 0x00010100, 0x00010101,
        0x01000000, 0x01000001, 0x01000100, 0x01000101, 0x01010000, 0x01010001, 0x01010100, 0x01010101,
    };
    const uint32_t flip = complement ? 0xFFFF : 0;
    const __m256d all = _mm256_castsi256_pd(_mm256_set1_epi64x(-1));
    long total = 0;
    long e = 0;
    // Sixteen events per step: every dimension's range test, then the complement and the parent
    // on the sixteen bits, counted, and written as bytes.
    for (; e + 16 <= count; e += 16) {
        __m256d in0 = all, in1 = all, in2 = all, in3 = all;
        for (long k = 0; k < dims; k++) {
            const double *c = columns[k] + e;
            const __m256d lo = _mm256_set1_pd(lows[k]), hi = _mm256_set1_pd(highs[k]);
            const __m256d v0 = _mm256_loadu_pd(c), v1 = _mm256_loadu_pd(c + 4), v2 = _mm256_loadu_pd(c + 8), v3 = _mm256_loadu_pd(c + 12);
            in0 = _mm256_and_pd(in0, _mm256_and_pd(_mm256_cmp_pd(v0, lo, _CMP_GE_OQ), _mm256_cmp_pd(v0, hi, _CMP_LT_OQ)));
            in1 = _mm256_and_pd(in1, _mm256_and_pd(_mm256_cmp_pd(v1, lo, _CMP_GE_OQ), _mm256_cmp_pd(v1, hi, _CMP_LT_OQ)));
            in2 = _mm256_and_pd(in2, _mm256_and_pd(_mm256_cmp_pd(v2, lo, _CMP_GE_OQ), _mm256_cmp_pd(v2, hi, _CMP_LT_OQ)));
            in3 = _mm256_and_pd(in3, _mm256_and_pd(_mm256_cmp_pd(v3, lo, _CMP_GE_OQ), _mm256_cmp_pd(v3, hi, _CMP_LT_OQ)));
        }
        uint32_t bits = (uint32_t)_mm256_movemask_pd(in0) | ((uint32_t)_mm256_movemask_pd(in1) << 4) |
                        ((uint32_t)_mm256_movemask_pd(in2) << 8) | ((uint32_t)_mm256_movemask_pd(in3) << 12);
        bits ^= flip;
        // Parent bytes are 0 or 1: shifted to the top bit of each byte, then one bit per byte.
        if (parent) bits &= (uint32_t)_mm_movemask_epi8(_mm_slli_epi16(_mm_loadu_si128((const __m128i *)(parent + e)), 7));
        total += __builtin_popcount(bits);
        const uint32_t b0 = spread[bits & 15], b1 = spread[(bits >> 4) & 15], b2 = spread[(bits >> 8) & 15], b3 = spread[bits >> 12];
        __builtin_memcpy(mask + e, &b0, 4);
        __builtin_memcpy(mask + e + 4, &b1, 4);
        __builtin_memcpy(mask + e + 8, &b2, 4);
        __builtin_memcpy(mask + e + 12, &b3, 4);
    }
    for (; e < count; e++) {
        uint8_t in = 1;
        for (long k = 0; k < dims; k++) {
            const double v = columns[k][e];
            in &= (v >= lows[k] && v < highs[k]) ? 1 : 0;
        }
        uint8_t x = in ^ (uint8_t)(complement ? 1 : 0);
        if (parent) x &= parent[e];
        mask[e] = x;
        total += x;
    }
    return total;
}

__attribute__((target("avx2")))
void ckernels_polygon_mask_avx2(const double *x, const double *y, const double *xs, const double *ys, long vertices,
                                uint8_t *mask, long count) {
    static const uint32_t spread[16] = {
        0x00000000, 0x00000001, 0x00000100, 0x00000101, 0x00010000, 0x00010001, 0x00010100, 0x00010101,
        0x01000000, 0x01000001, 0x01000100, 0x01000101, 0x01010000, 0x01010001, 0x01010100, 0x01010101,
    };
    const __m256d zero = _mm256_setzero_pd();
    long e = 0;
    // Four events per step, every edge in turn; the crossings' parity stays in a register.
    for (; e + 4 <= count; e += 4) {
        const __m256d vx = _mm256_loadu_pd(x + e), vy = _mm256_loadu_pd(y + e);
        __m256d parity = _mm256_setzero_pd();
        long j = vertices - 1;
        for (long i = 0; i < vertices; i++) {
            const double x0 = xs[j], y0 = ys[j], x1 = xs[i], y1 = ys[i];
            // A horizontal edge never crosses: up needs y0 <= y < y1 and down y1 <= y < y0.
            if (y0 == y1) {
                j = i;
                continue;
            }
            const __m256d X0 = _mm256_set1_pd(x0), Y0 = _mm256_set1_pd(y0), Y1 = _mm256_set1_pd(y1);
            const __m256d DX = _mm256_set1_pd(x1 - x0), DY = _mm256_set1_pd(y1 - y0);
            const __m256d side = _mm256_sub_pd(_mm256_mul_pd(DX, _mm256_sub_pd(vy, Y0)), _mm256_mul_pd(_mm256_sub_pd(vx, X0), DY));
            const __m256d up = _mm256_and_pd(_mm256_and_pd(_mm256_cmp_pd(Y0, vy, _CMP_LE_OQ), _mm256_cmp_pd(Y1, vy, _CMP_GT_OQ)),
                                             _mm256_cmp_pd(side, zero, _CMP_GT_OQ));
            const __m256d down = _mm256_and_pd(_mm256_and_pd(_mm256_cmp_pd(Y0, vy, _CMP_GT_OQ), _mm256_cmp_pd(Y1, vy, _CMP_LE_OQ)),
                                               _mm256_cmp_pd(side, zero, _CMP_LT_OQ));
            parity = _mm256_xor_pd(parity, _mm256_or_pd(up, down));
            j = i;
        }
        uint32_t bytes = spread[_mm256_movemask_pd(parity)];
        __builtin_memcpy(mask + e, &bytes, 4);
    }
    for (; e < count; e++) {
        const double px = x[e], py = y[e];
        uint8_t inside = 0;
        long j = vertices - 1;
        for (long i = 0; i < vertices; i++) {
            const double x0 = xs[j], y0 = ys[j], x1 = xs[i], y1 = ys[i];
            const double dx = x1 - x0, dy = y1 - y0;
            const double side = dx * (py - y0) - (px - x0) * dy;
            const uint8_t up = (y0 <= py) && (y1 > py) && side > 0;
            const uint8_t down = (y0 > py) && (y1 <= py) && side < 0;
            inside ^= up | down;
            j = i;
        }
        mask[e] = inside;
    }
}

__attribute__((target("avx2")))
long ckernels_finite_range_avx2(const double *values, long count, double *low, double *high) {
    const __m256d abs_mask = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7fffffffffffffffLL));
    const __m256d largest = _mm256_set1_pd(1.7976931348623157e308);
    __m256d lo[4], hi[4];
    __m256i bad[4];
    for (int k = 0; k < 4; k++) {
        lo[k] = _mm256_set1_pd(*low);
        hi[k] = _mm256_set1_pd(*high);
        bad[k] = _mm256_setzero_si256();
    }
    long e = 0;
    // Sixteen values per step in four independent accumulators. A value that is not finite
    // (|v| not <= the largest double: NaN, ±infinity) is made a NaN by OR-ing its all-ones mask
    // into it, and min/max return their second operand (the running one) when the first is NaN,
    // so no blend is needed; its mask (−1) is subtracted from the count.
    for (; e + 16 <= count; e += 16) {
        for (int k = 0; k < 4; k++) {
            const __m256d v = _mm256_loadu_pd(values + e + 4 * k);
            const __m256d not_finite = _mm256_cmp_pd(_mm256_and_pd(v, abs_mask), largest, _CMP_NLE_UQ);
            const __m256d w = _mm256_or_pd(v, not_finite);
            lo[k] = _mm256_min_pd(w, lo[k]);
            hi[k] = _mm256_max_pd(w, hi[k]);
            bad[k] = _mm256_sub_epi64(bad[k], _mm256_castpd_si256(not_finite));
        }
    }
    double low_value = *low, high_value = *high;
    long n_bad = 0;
    for (int k = 0; k < 4; k++) {
        double l[4], h[4];
        int64_t b[4];
        _mm256_storeu_pd(l, lo[k]);
        _mm256_storeu_pd(h, hi[k]);
        _mm256_storeu_si256((__m256i *)b, bad[k]);
        n_bad += b[0] + b[1] + b[2] + b[3];
        for (int j = 0; j < 4; j++) {
            if (l[j] < low_value) low_value = l[j];
            if (h[j] >= high_value) high_value = h[j];
        }
    }
    for (; e < count; e++) {
        double v = values[e];
        if (v - v == 0) {  // finite
            if (v < low_value) low_value = v;
            if (v >= high_value) high_value = v;
        } else {
            n_bad++;
        }
    }
    *low = low_value;
    *high = high_value;
    return n_bad;
}

__attribute__((target("avx2")))
void ckernels_decode_float32_avx2(const uint8_t *raw, long stride, long channels, long count, int big_endian,
                                  double *columns, long capacity) {
    const __m256i swap = _mm256_setr_epi8(3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12,
                                          3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12);
    long e = 0;
    for (; e + 8 <= count; e += 8) {
        const uint8_t *row = raw + e * stride;
        // Groups of 8 channels; the last group ends at the last channel (it may overlap the one
        // before it, whose values it then writes again, the same).
        for (long g = 0; g < channels; g += 8) {
            long first = g + 8 <= channels ? g : channels - 8;
            __m256 r[8];
            for (int i = 0; i < 8; i++) {
                __m256i v = _mm256_loadu_si256((const __m256i *)(row + i * stride + first * 4));
                if (big_endian) v = _mm256_shuffle_epi8(v, swap);
                r[i] = _mm256_castsi256_ps(v);
            }
            // 8 × 8 transpose: c[j] holds channel first + j of the 8 events.
            __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
            __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
            __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
            __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
            __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
            __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
            __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
            __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
            __m256 c[8];
            c[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
            c[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
            c[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
            c[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
            c[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
            c[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
            c[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
            c[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
            for (int j = 0; j < 8; j++) {
                double *out = columns + (first + j) * capacity + e;
                _mm256_storeu_pd(out, _mm256_cvtps_pd(_mm256_castps256_ps128(c[j])));
                _mm256_storeu_pd(out + 4, _mm256_cvtps_pd(_mm256_extractf128_ps(c[j], 1)));
            }
        }
    }
    for (; e < count; e++) {
        for (long k = 0; k < channels; k++) {
            uint32_t bits;
            memcpy(&bits, raw + e * stride + k * 4, 4);
            if (big_endian) bits = __builtin_bswap32(bits);
            float f;
            memcpy(&f, &bits, 4);
            columns[k * capacity + e] = (double)f;
        }
    }
}

#else
int ckernels_avx2_available(void) { return 0; }
long ckernels_finite_range_avx2(const double *values, long count, double *low, double *high) { (void)values; (void)count; (void)low; (void)high; return 0; }
long ckernels_cubic_table_avx2(const double *rows, long first_index, long segments, double zero,
                               const double *source, double *values, long count, long *outside) { (void)rows; (void)first_index; (void)segments; (void)zero; (void)source; (void)values; (void)outside; return count; }
void ckernels_compensate_avx2(double *target, const double *const *sources, const double *coefficients, long terms, long count) {
    (void)target; (void)sources; (void)coefficients; (void)terms; (void)count;
}
long ckernels_finish_mask_avx2(uint8_t *mask, const uint8_t *parent, int complement, long count) {
    (void)mask; (void)parent; (void)complement; (void)count; return 0;
}
long ckernels_rectangle_mask_avx2(const double *const *columns, const double *lows, const double *highs, long dims,
                                  const uint8_t *parent, int complement, uint8_t *mask, long count) {
    (void)columns; (void)lows; (void)highs; (void)dims; (void)parent; (void)complement; (void)mask; (void)count; return 0;
}
void ckernels_polygon_mask_avx2(const double *x, const double *y, const double *xs, const double *ys, long vertices,
                                uint8_t *mask, long count) {
    (void)x; (void)y; (void)xs; (void)ys; (void)vertices; (void)mask; (void)count;
}
void ckernels_decode_float32_avx2(const uint8_t *raw, long stride, long channels, long count, int big_endian,
                                  double *columns, long capacity) {
    (void)raw; (void)stride; (void)channels; (void)count; (void)big_endian; (void)columns; (void)capacity;
}
#endif
