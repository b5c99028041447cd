import test from 'ava';
import {
  AudioSpecError,
  type CaptureSpec,
  echoModeFor,
  formatSpec,
  type PlaybackSpec,
  parseCaptureSpec,
  parsePlaybackSpec,
} from '../../../device/audio/spec.ts';

const captures: [string, CaptureSpec][] = [
  ['alsa:default', { kind: 'alsa', pcm: 'default' }],
  ['alsa:plughw:CARD=Device,DEV=0', { kind: 'alsa', pcm: 'plughw:CARD=Device,DEV=0' }],
  ['arecord:plughw:1,0', { kind: 'arecord', pcm: 'plughw:1,0' }],
  ['file:/var/lib/babel/greeting.wav', { kind: 'file', path: '/var/lib/babel/greeting.wav' }],
  ['file:C:odd name.WAV', { kind: 'file', path: 'C:odd name.WAV' }],
  ['tone:440', { kind: 'tone', hz: 440 }],
  ['tone:1000.5', { kind: 'tone', hz: 1000.5 }],
  ['silence', { kind: 'silence' }],
  ['fake-alsa:1000', { kind: 'fake-alsa', hz: 1000 }],
];

const playbacks: [string, PlaybackSpec][] = [
  ['aplay:default', { kind: 'aplay', pcm: 'default' }],
  ['aplay:plughw:CARD=Device,DEV=0', { kind: 'aplay', pcm: 'plughw:CARD=Device,DEV=0' }],
  ['file:/tmp/out.wav', { kind: 'file', path: '/tmp/out.wav' }],
  ['null', { kind: 'null' }],
];

for (const [text, spec] of captures) {
  test(`capture ${text}: parses, and prints back`, (t) => {
    t.deepEqual(parseCaptureSpec(text), spec);
    t.is(formatSpec(spec), text);
  });
}

for (const [text, spec] of playbacks) {
  test(`playback ${text}: parses, and prints back`, (t) => {
    t.deepEqual(parsePlaybackSpec(text), spec);
    t.is(formatSpec(spec), text);
  });
}

const badCaptures: [string, RegExp][] = [
  ['', /unknown capture ""; expected alsa:PCM, arecord:PCM, file:PATH.wav, tone:HZ or silence/],
  ['pulse:default', /unknown capture "pulse:default"/],
  ['ALSA:default', /unknown capture/],
  ['alsa', /alsa: needs an ALSA PCM name/],
  ['alsa:', /alsa: needs an ALSA PCM name/],
  ['arecord:my mic', /arecord: needs an ALSA PCM name without spaces/],
  ['file:', /file: needs a path ending in .wav/],
  ['file:/tmp/x.mp3', /file: needs a path ending in .wav/],
  ['file:.wav', /file: needs a path ending in .wav/],
  ['tone', /tone: needs a frequency from 20 to 20000 Hz/],
  ['tone:abc', /tone: needs a frequency/],
  ['tone:-440', /tone: needs a frequency/],
  ['tone:1e3', /tone: needs a frequency/],
  ['tone:10', /tone: needs a frequency/],
  ['tone:24000', /tone: needs a frequency/],
  ['silence:1', /unknown capture "silence:1"/],
  ['null', /unknown capture "null"/],
];

for (const [text, message] of badCaptures) {
  test(`capture "${text}" is refused with a clear message`, (t) => {
    const err = t.throws(() => parseCaptureSpec(text), { instanceOf: AudioSpecError });
    t.regex(err?.message ?? '', message);
  });
}

const badPlaybacks: [string, RegExp][] = [
  ['', /unknown playback ""; expected aplay:PCM, file:PATH.wav or null/],
  ['alsa:default', /unknown playback "alsa:default"/],
  ['aplay:', /aplay: needs an ALSA PCM name/],
  ['file:out.raw', /file: needs a path ending in .wav/],
  ['null:x', /unknown playback/],
  ['silence', /unknown playback/],
];

for (const [text, message] of badPlaybacks) {
  test(`playback "${text}" is refused with a clear message`, (t) => {
    const err = t.throws(() => parsePlaybackSpec(text), { instanceOf: AudioSpecError });
    t.regex(err?.message ?? '', message);
  });
}

test('echoModeFor: a null speaker makes no sound, so no echo control; others keep the mode', (t) => {
  for (const mode of ['aec', 'duck', 'off'] as const) {
    t.is(echoModeFor(parsePlaybackSpec('null'), mode), 'off');
    t.is(echoModeFor(parsePlaybackSpec('aplay:default'), mode), mode);
    t.is(echoModeFor(parsePlaybackSpec('file:/tmp/x.wav'), mode), mode);
  }
});
