/*
 * slots.ts of device/media/jitter/: JitterSlots, the jitter buffer's packet ring
 * (jitter_impl.h). Payloads are copied into storage allocated once, by jslots_alloc().
 */
#include <stdlib.h>
#include <string.h>

#include "jitter_impl.h"

/* No fused multiply-add (arm64 has it): the TS rounds every operation, so must we. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

bool jslots_alloc(jslots *s, double max_frames) {
  size_t size = 64;
  while ((double)size < 4 * max_frames) size *= 2;
  s->mask = size - 1;
  s->slot = calloc(size, sizeof(jslot));
  s->data = malloc(size * JITTER_MAX_PAYLOAD);
  return s->slot && s->data;
}

void jslots_free(jslots *s) {
  free(s->slot);
  free(s->data);
}

void jslots_store(jslots *s, int64_t slot, uint16_t seq, uint32_t ts, const uint8_t *p,
                  size_t len) {
  size_t idx = jslots_idx(s, slot);
  jslot *e = &s->slot[idx];
  if (!e->used) s->count++;
  e->used = true;
  e->id = slot;
  e->seq = seq;
  e->ts = ts;
  e->len = len;
  if (len > 0) memcpy(s->data + idx * JITTER_MAX_PAYLOAD, p, len);
}

void jslots_clear(jslots *s, int64_t slot) {
  jslot *e = &s->slot[jslots_idx(s, slot)];
  if (e->used) s->count--;
  e->used = false;
}

void jslots_clear_all(jslots *s) {
  for (uint64_t i = 0; i <= s->mask; i++) jslots_clear(s, (int64_t)i);
}
