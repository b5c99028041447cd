/* Serial arithmetic of RTP sequence numbers and timestamps (device/media/seq.ts). */
#ifndef BABEL_SEQ_H
#define BABEL_SEQ_H
#include <stdint.h>

/* Signed distance a - b between two 16-bit sequence numbers, in [-2^15, 2^15). */
static inline int seq_diff(uint16_t a, uint16_t b) { return (int16_t)(uint16_t)(a - b); }
/* seq + n modulo 2^16. */
static inline uint16_t seq_add(uint16_t seq, int n) { return (uint16_t)(seq + n); }
/* Signed distance a - b between two 32-bit timestamps, in [-2^31, 2^31). */
static inline int32_t ts_diff(uint32_t a, uint32_t b) { return (int32_t)(uint32_t)(a - b); }
/* ts + n modulo 2^32. */
static inline uint32_t ts_add(uint32_t ts, int64_t n) { return (uint32_t)((int64_t)ts + n); }

#endif
