/**
 * Bounds that only guard against a hang (a child process that never starts, a demo that
 * never ends) and say nothing about speed. They scale with `BABEL_TEST_TIME_SCALE`
 * (default 1): `scripts/check-arm64.sh` sets it when the suite runs under qemu, where
 * starting Node with tsx takes 5 to 20 times longer than here. Never use it for a bound
 * that a test asserts as a property of the product.
 */
const scale = (() => {
  const raw = Number(process.env.BABEL_TEST_TIME_SCALE ?? '1');
  return Number.isFinite(raw) && raw >= 1 ? raw : 1;
})();

/** `ms` times the hang-guard scale. */
export function hangGuardMs(ms: number): number {
  return Math.round(ms * scale);
}
