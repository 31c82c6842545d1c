#ifndef CSHA256_H
#define CSHA256_H
#include <stddef.h>
#include <stdint.h>

/// 1 when this CPU has the x86 SHA extensions (SHA-NI), else 0.
int csha256_hardware_available(void);

/// Compresses `blocks` 64-byte chunks at `data` into `state` (8 words) with SHA-NI.
/// Only call when csha256_hardware_available() returned 1.
void csha256_compress_hardware(uint32_t state[8], const uint8_t *data, size_t blocks);

#endif
