/*
 * The echo's delay from the two signals alone (the parts of device/media/echo/delay.ts
 * that the echo control uses): 2 ms envelopes of the far end and the microphone, and the
 * normalized cross-correlation of a window of them. Internal to echo.c; pure, no
 * allocation after init.
 */
#ifndef BABEL_ECHO_DELAY_H
#define BABEL_ECHO_DELAY_H
#include <stdbool.h>
#include <stdint.h>

/* Milliseconds per envelope value (DelayTracker.BLOCK_MS). */
#define DELAY_BLOCK_MS 2
/* The control's tracker: a 1000 ms window, lags up to 400 ms (control.ts). */
#define DELAY_WINDOW_MS 1000
#define DELAY_MAX_LAG_MS 400
#define DELAY_LEN ((DELAY_WINDOW_MS + DELAY_MAX_LAG_MS) / DELAY_BLOCK_MS)

typedef struct {
  double delay_ms;   /* how far the microphone lags the far end */
  double confidence; /* the peak's normalized correlation, 0..1 */
} delay_estimate;

typedef struct {
  double far[DELAY_LEN];
  double mic[DELAY_LEN];
  int filled; /* envelope values held */
  /* estimateDelay's prefix sums, kept here so that nothing allocates per frame. */
  double pf[DELAY_LEN + 1], pff[DELAY_LEN + 1], pm[DELAY_LEN + 1], pmm[DELAY_LEN + 1];
} delay_tracker;

void delay_tracker_init(delay_tracker *t);
/* One frame each, `n` samples (whole 2 ms blocks; a trailing part block is dropped). */
void delay_tracker_push(delay_tracker *t, const int16_t *far, const int16_t *mic, int n);
/* The estimate over what is held; false for none (too little held, or either signal too
 * still to tell). */
bool delay_tracker_estimate(delay_tracker *t, delay_estimate *out);

#endif
