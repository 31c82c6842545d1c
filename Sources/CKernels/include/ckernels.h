#ifndef CKERNELS_H
#define CKERNELS_H
#include <stddef.h>
#include <stdint.h>

/// 1 when this CPU and its operating system support AVX2 and POPCNT (the kernels below), else 0.
int ckernels_avx2_available(void);

/// Piecewise-cubic table lookup (FlowMRD's TabulatedInverse) of `count` values of `source` into
/// `values` (the same pointer: in place), four at a time. `rows`: 4 doubles per segment (c0, c1,
/// c2, c3), 32-byte aligned; a segment's start and 1/width are exact functions of the value's
/// bits (the start: the magnitude with the mantissa below the top 8 bits cleared; 1/width:
/// 2^(8 − exponent)), so they are computed, not read. A value whose segment index (bits of |v| >> 44, minus `first_index`)
/// lies outside 0..<segments is not written and its position goes to `outside` (room for
/// `count`); returns how many.
/// The arithmetic is the Swift loop's, operation by operation (no fused multiply-add).
/// Only call when ckernels_avx2_available() returned 1.
long ckernels_cubic_table_avx2(const double *rows, long first_index, long segments, double zero,
                               const double *source, double *values, long count, long *outside);

/// target[e] = source[e] * coefficient, then target[e] += source_k[e] * coefficient_k for each
/// further term in order (one compensated output). AVX2 only.
void ckernels_compensate_avx2(double *target, const double *const *sources, const double *coefficients,
                              long terms, long count);

/// A gate's mask finished: each byte (0 or 1) flipped when `complement` is 1, then ANDed with
/// `parent`'s byte (no parent: NULL); returns how many bytes are 1. AVX2 only.
long ckernels_finish_mask_avx2(uint8_t *mask, const uint8_t *parent, int complement, long count);

/// A rectangle gate's finished mask in one pass: mask[e] = 1 when lows[k] <= columns[k][e] <
/// highs[k] for every k < dims (NaN is outside; no dimension: every event), flipped when
/// `complement` is 1, ANDed with `parent`'s byte (NULL: none); returns how many are 1. The same
/// bytes as a range test per dimension then ckernels_finish_mask_avx2. AVX2 only.
long ckernels_rectangle_mask_avx2(const double *const *columns, const double *lows, const double *highs, long dims,
                                  const uint8_t *parent, int complement, uint8_t *mask, long count);

/// Adds the smallest and largest finite value of `count` values to `*low` / `*high` (kept when
/// smaller / larger) and returns how many values were not finite (NaN, ±infinity). Which zero
/// (−0 or 0) is kept when both occur is not specified. AVX2 only.
long ckernels_finite_range_avx2(const double *values, long count, double *low, double *high);
/// The polygon (xs, ys; `vertices` points) mask of `count` events at (x, y), 1 inside by the
/// crossing rule: the same comparisons and `side` arithmetic as the Swift `polygonMask`, so the
/// same bytes. Only call when ckernels_avx2_available() returned 1.
void ckernels_polygon_mask_avx2(const double *x, const double *y, const double *xs, const double *ys, long vertices,
                                uint8_t *mask, long count);


/// FCS float32 events (`stride` bytes each, channel k's value at byte 4k, little-endian or, with
/// `big_endian`, big-endian; `channels` ≥ 8) decoded into channel-major double columns (channel
/// k at columns + k × capacity): eight events at a time, loaded whole and transposed. Each value
/// is the float converted to double, as a scalar conversion gives it. AVX2 only.
void ckernels_decode_float32_avx2(const uint8_t *raw, long stride, long channels, long count, int big_endian,
                                  double *columns, long capacity);

#endif
