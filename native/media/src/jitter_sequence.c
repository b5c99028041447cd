/*
 * sequence.ts of device/media/jitter/: JitterSequence, the RFC 3550 A.1 bookkeeping of the
 * jitter buffer (jitter_impl.h): the extended highest sequence number, duplicates, losses.
 */
#include <string.h>

#include "jitter_impl.h"

/* No fused multiply-add (arm64 has it): the TS rounds every operation, so must we. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

static double jseq_expected(const jseq *s) {
  return s->cycles + s->max_seq - s->base_seq + 1;
}

void jseq_count(jseq *s, int seq, int d) {
  if (d > 0) {
    if (seq < s->max_seq) s->cycles += 0x10000;
    s->max_seq = seq;
  }
  s->history[seq & (JSEQ_HISTORY - 1)] = seq + 1;
  s->unique_received++;
}

void jseq_start(jseq *s, int seq) {
  if (s->started) s->lost_before += js_max(0, jseq_expected(s) - s->unique_received);
  s->started = true;
  s->base_seq = seq;
  s->max_seq = seq;
  s->cycles = 0;
  s->unique_received = 0;
  memset(s->history, 0, sizeof s->history);
  jseq_count(s, seq, 0);
}

double jseq_lost(const jseq *s) {
  double lost_now = s->started ? jseq_expected(s) - s->unique_received : 0;
  return s->lost_before + js_max(0, lost_now);
}
