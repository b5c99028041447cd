/**
 * `babel-device --sound-check`, the pure part: the test sound, and what a recording of it
 * says (microphone background and peak, the speaker-to-microphone echo's delay and level)
 * with advice. The runner (sound-check-run.ts) plays and records through the configured
 * backends; this file only computes.
 *
 * The test sound is 0.5 s of silence (the room's background), then 2 s of a rising tone
 * (300 Hz to 3 kHz, speech's band) switched on and off in an irregular 30-150 ms pattern,
 * so its envelope has one clear match in the recording (delay.ts), then 0.5 s of silence
 * for the echo's tail.
 */
import { envelope, estimateDelay } from './delay.ts';
import { levelDbfs, peak } from './gain.ts';

const RATE = 48_000;
export const LEAD_MS = 500;
export const SOUND_MS = 2000;
export const TAIL_MS = 500;
/** The longest echo delay looked for. */
export const MAX_DELAY_MS = 600;
/** Level of the test sound, dBFS RMS while on (a fifth of full scale). */
const AMPLITUDE = 0.2 * Math.SQRT2;

/** The whole test sound, s16le mono 48 kHz: lead silence, gated sweep, tail silence. */
export function testSound(seed = 1): Buffer {
  const total = ((LEAD_MS + SOUND_MS + TAIL_MS) * RATE) / 1000;
  const out = Buffer.alloc(total * 2);
  const start = (LEAD_MS * RATE) / 1000;
  const len = (SOUND_MS * RATE) / 1000;
  let s = seed >>> 0 || 1;
  const rnd = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
  let on = true;
  let next = 0;
  let phase = 0;
  const k = Math.log(3000 / 300);
  for (let i = 0; i < len; i++) {
    if (i === next) {
      on = !on;
      next = i + Math.round((30 + rnd() * 120) * 48);
    }
    const hz = 300 * Math.exp((k * i) / len);
    phase += (2 * Math.PI * hz) / RATE;
    if (on) out.writeInt16LE(Math.round(AMPLITUDE * 32767 * Math.sin(phase)), (start + i) * 2);
  }
  return out;
}

export interface SoundCheckReport {
  /** The microphone's level before the sound: the room and the microphone's own noise. */
  backgroundDbfs: number;
  /** The recording's largest sample, dBFS (0 is full scale: clipping). */
  peakDbfs: number;
  /** The speaker's sound in the microphone, dBFS RMS while the sound played. */
  echoDbfs: number;
  /** How much quieter the echo is than the sound sent to the speaker, dB. */
  echoLossDb: number;
  /** Speaker-to-microphone delay, ms, or null when the sound was not heard. */
  delayMs: number | null;
  confidence: number;
  advice: string[];
}

/** What `recorded` (from the moment the sound started playing) says about `played`. */
export function analyze(played: Buffer, recorded: Buffer): SoundCheckReport {
  const at = (ms: number) => Math.min(recorded.length, ((ms * RATE) / 1000) * 2);
  const background = levelDbfs(recorded.subarray(0, at(LEAD_MS - 50)));
  const est = estimateDelay(envelope(played), envelope(recorded), MAX_DELAY_MS);
  const heard = est !== null && est.confidence >= 0.5;
  const shift = heard ? est.delayMs : 0;
  const echo = levelDbfs(recorded.subarray(at(LEAD_MS + shift), at(LEAD_MS + SOUND_MS + shift)));
  const sound = levelDbfs(played.subarray(at(LEAD_MS), at(LEAD_MS + SOUND_MS)));
  const top = peak(recorded);
  const pk = top > 0 ? 20 * Math.log10(top) : Number.NEGATIVE_INFINITY;
  const report: SoundCheckReport = {
    backgroundDbfs: background,
    peakDbfs: pk,
    echoDbfs: echo,
    echoLossDb: sound - echo,
    delayMs: heard ? est.delayMs : null,
    confidence: est?.confidence ?? 0,
    advice: [],
  };
  report.advice = advise(report);
  return report;
}

/** Advice, most urgent first; one line saying all is well when nothing is wrong. */
export function advise(r: SoundCheckReport): string[] {
  const a: string[] = [];
  if (!Number.isFinite(r.echoDbfs) && !Number.isFinite(r.backgroundDbfs)) {
    a.push('the microphone recorded only silence: check the capture device (--list-audio)');
    return a;
  }
  if (r.peakDbfs > -0.5) {
    a.push('the microphone clips: lower audio.mic_gain_db or audio.speaker_volume');
  }
  if (r.delayMs === null) {
    a.push(
      'the test sound was not heard in the microphone: check that the speaker plays (is audio.speaker_volume 0?) and that capture and playback are the same unit',
    );
  } else if (r.echoLossDb < 0) {
    a.push(
      'the echo path is too loud (the microphone hears the speaker louder than it was sent): lower audio.speaker_volume or move the microphone away from the speaker',
    );
  }
  if (r.backgroundDbfs > -35) {
    a.push('the background is loud: a noisy room, or audio.mic_gain_db too high');
  }
  const loudest = Math.max(r.echoDbfs, r.backgroundDbfs);
  if (Number.isFinite(loudest) && loudest < -55) {
    a.push(
      `the microphone is quiet: raise audio.mic_gain_db (by about ${Math.round(-40 - loudest)} dB)`,
    );
  }
  if (a.length === 0) a.push('levels look right; echo cancellation (audio.echo: aec) can work');
  return a;
}

const dbfs = (v: number) => (Number.isFinite(v) ? `${v.toFixed(1)} dBFS` : 'silence');

/** The report as printed. */
export function formatReport(r: SoundCheckReport, capture: string, playback: string): string {
  const lines = [
    `Sound check: played a ${SOUND_MS / 1000} s test sound on ${playback}, recorded ${capture}.`,
    `  microphone background: ${dbfs(r.backgroundDbfs)}`,
    `  microphone peak:       ${dbfs(r.peakDbfs)}${r.peakDbfs > -0.5 ? ' (clipping)' : ''}`,
    r.delayMs === null
      ? '  echo:                  not heard'
      : `  echo:                  ${r.delayMs} ms after the speaker, ${dbfs(r.echoDbfs)} (${r.echoLossDb.toFixed(1)} dB below the test sound)`,
    ...r.advice.map((line) => `  advice: ${line}`),
  ];
  return `${lines.join('\n')}\n`;
}
