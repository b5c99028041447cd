// The other candidate for babel-dsp, measured by bench/echo-apm.ts: WebRTC's audio
// processing module as Debian ships it (libwebrtc-audio-processing-dev 0.3), its echo
// canceller with the extended filter and delay-agnostic mode (it finds the delay itself),
// no noise suppression or gain control, on the same 48 kHz mono s16le files as ours.
//
//   g++ -O2 -std=c++11 apm.cc $(pkg-config --cflags --libs webrtc-audio-processing) -o apm
//   ./apm far.raw mic.raw out.raw      prints microseconds of processing per 20 ms
#include <chrono>
#include <cstdio>
#include <vector>
#include <webrtc/modules/audio_processing/include/audio_processing.h>
#include <webrtc/modules/interface/module_common_types.h>

static std::vector<int16_t> slurp(const char *path) {
  std::vector<int16_t> v;
  FILE *f = fopen(path, "rb");
  if (!f) return v;
  int16_t buf[4096];
  size_t n;
  while ((n = fread(buf, 2, 4096, f)) > 0) v.insert(v.end(), buf, buf + n);
  fclose(f);
  return v;
}

int main(int argc, char **argv) {
  if (argc != 4) return 2;
  std::vector<int16_t> far = slurp(argv[1]), mic = slurp(argv[2]);
  webrtc::Config config;
  config.Set<webrtc::ExtendedFilter>(new webrtc::ExtendedFilter(true));
  config.Set<webrtc::DelayAgnostic>(new webrtc::DelayAgnostic(true));
  webrtc::AudioProcessing *apm = webrtc::AudioProcessing::Create(config);
  apm->echo_cancellation()->enable_drift_compensation(false);
  apm->echo_cancellation()->set_suppression_level(webrtc::EchoCancellation::kModerateSuppression);
  apm->echo_cancellation()->Enable(true);
  const int kFrame = 480;  // 10 ms: APM's unit
  webrtc::AudioFrame f, m;
  std::vector<int16_t> out;
  double us = 0;
  size_t frames = 0;
  for (size_t o = 0; o + kFrame <= mic.size() && o + kFrame <= far.size(); o += kFrame) {
    f.UpdateFrame(0, 0, &far[o], kFrame, 48000, webrtc::AudioFrame::kNormalSpeech,
                  webrtc::AudioFrame::kVadUnknown, 1);
    m.UpdateFrame(0, 0, &mic[o], kFrame, 48000, webrtc::AudioFrame::kNormalSpeech,
                  webrtc::AudioFrame::kVadUnknown, 1);
    auto t0 = std::chrono::steady_clock::now();
    apm->ProcessReverseStream(&f);
    apm->set_stream_delay_ms(0);
    apm->ProcessStream(&m);
    us += std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
    frames++;
    out.insert(out.end(), m.data_, m.data_ + kFrame);
  }
  FILE *w = fopen(argv[3], "wb");
  fwrite(out.data(), 2, out.size(), w);
  fclose(w);
  printf("%.1f\n", frames ? 2 * us / frames : 0.0);
  delete apm;
  return 0;
}
