/** Checks a schema pattern cannot express, shared by both programs' `ConfigSpec.check`. */

/** The problem with an `mqtt://` or `mqtts://` URL, or null; never repeats the URL (it may hold a password). */
export function mqttUrlProblem(url: string): string | null {
  const ok = URL.canParse(url) && new URL(url).hostname !== '' && new URL(url).port !== '0';
  return ok ? null : 'is not a valid URL (mqtt[s]://HOST[:PORT], port 1-65535)';
}
