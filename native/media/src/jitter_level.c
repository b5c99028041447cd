/*
 * level.ts of device/media/jitter/: LevelControl, the jitter buffer's level control
 * (jitter_impl.h): a smoothed level against the target, a frame inserted when it runs low,
 * one dropped (a quiet one, or after a wait) when it runs high, a cooldown between the two.
 */
#include "jitter_impl.h"

/* No fused multiply-add (arm64 has it): the TS rounds every operation, so must we. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#define LEVEL_TAU_MS 1000
#define HYSTERESIS 0.75
#define COOLDOWN_MS 250

void jlevel_init(jlevel *c, double frame_ms, double max_drop_wait_ms) {
  c->alpha = js_min(1, frame_ms / LEVEL_TAU_MS);
  c->max_drop_wait_ms = max_drop_wait_ms;
  c->drop_since = -1;
}

void jlevel_start(jlevel *c, double now, double level) {
  c->ema = level;
  c->cooldown_until = now + COOLDOWN_MS;
  c->drop_since = -1;
}

void jlevel_sample(jlevel *c, double level) { c->ema += (level - c->ema) * c->alpha; }

bool jlevel_insert_due(jlevel *c, double now, double level, double target) {
  if (now >= c->cooldown_until && c->drop_since < 0) {
    if (c->ema >= target + HYSTERESIS && level >= 2) {
      c->drop_since = now;
    } else if (c->ema <= target - HYSTERESIS) {
      c->ema += 1;
      c->cooldown_until = now + COOLDOWN_MS;
      return true;
    }
  }
  return false;
}

bool jlevel_drop_due(jlevel *c, double level, double target, bool overflow) {
  if (c->drop_since < 0 && !overflow) return false;
  if (!overflow && (level < 2 || c->ema < target + HYSTERESIS - 0.5)) {
    c->drop_since = -1;
    return false;
  }
  return true;
}

static double jlevel_excess(const jlevel *c, double target) {
  return js_max(1, floor(c->ema - target));
}

bool jlevel_waited_out(const jlevel *c, double now, double target) {
  double excess = jlevel_excess(c, target);
  return now - c->drop_since >= c->max_drop_wait_ms / (excess * excess);
}

void jlevel_dropped(jlevel *c, double now, double target) {
  double excess = jlevel_excess(c, target);
  c->ema -= 1;
  c->drop_since = -1;
  c->cooldown_until = now + COOLDOWN_MS / excess;
}
