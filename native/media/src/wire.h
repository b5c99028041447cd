/*
 * RTP [M-1, M-2], RFC 4733 telephone events and SRTP [S-4, S-5] in C: ports of
 * device/media/rtp.ts, device/media/dtmf.ts and protocol/srtp/ with the same answers
 * (test/native/media/wire.test.ts runs both and checks RFC 3711's vectors). SRTP uses the
 * OpenSSL that Node carries (AES-128 in counter mode, HMAC-SHA1), through its headers.
 */
#ifndef BABEL_WIRE_H
#define BABEL_WIRE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RTP_HEADER_SIZE 12
#define OPUS_PAYLOAD_TYPE 111
#define DTMF_PAYLOAD_TYPE 101

/* ---- RTP ---- */

typedef struct {
  uint8_t payload_type;
  bool marker;
  uint16_t sequence;
  uint32_t timestamp;
  uint32_t ssrc;
  const uint8_t *payload; /* points into the parsed buffer */
  size_t payload_len;
} rtp_packet;

/* parseRtp(): false where the TS returns null. */
bool rtp_parse(const uint8_t *buf, size_t len, rtp_packet *out);

/* RtpSender, with the start values given (the engine's caller draws them at random). */
typedef struct {
  uint8_t payload_type;
  uint32_t ssrc;
  uint16_t sequence;
  uint32_t timestamp;
  bool marker;
} rtp_sender;

void rtp_sender_init(rtp_sender *s, uint8_t payload_type, uint32_t ssrc, uint16_t sequence,
                     uint32_t timestamp);
/* packet(): writes the datagram into out; its length, or 0 if cap is too small or the
 * payload type is reserved for RTCP. */
size_t rtp_sender_packet(rtp_sender *s, uint8_t payload_type, const uint8_t *payload,
                         size_t len, uint32_t timestamp, bool marker, uint8_t *out, size_t cap);
size_t rtp_sender_next_audio(rtp_sender *s, const uint8_t *payload, size_t len,
                             uint32_t samples_per_frame, uint8_t *out, size_t cap);
void rtp_sender_silence(rtp_sender *s, uint32_t samples);

/* ---- RFC 4733 ---- */

typedef struct {
  uint8_t event;
  bool end;
  uint8_t volume;
  uint16_t duration;
} telephone_event;

bool telephone_event_parse(const uint8_t *payload, size_t len, telephone_event *out);
/* "0123456789*#ABCD": the event number of `key`, or -1. */
int dtmf_key_to_event(char key);
/* The key of event `event`, or 0 for a non-DTMF event. */
char dtmf_event_to_key(uint8_t event);

#define DTMF_QUEUE 32

/* DtmfSender over an rtp_sender (same semantics as the TS class, volume default 10). */
typedef struct {
  rtp_sender *rtp;
  uint8_t payload_type;
  uint32_t packet_ms, clock_rate;
  uint8_t volume;
  char queue_key[DTMF_QUEUE];
  uint32_t queue_ms[DTMF_QUEUE];
  int queue_head, queue_len;
  /* the press being sent: whatever state keyPressPackets() keeps */
  bool active;
  char key;
  uint32_t duration_ms;
  int step;
  uint32_t timestamp;
} dtmf_sender;

void dtmf_sender_init(dtmf_sender *d, rtp_sender *rtp, uint8_t payload_type, uint32_t packet_ms,
                      uint32_t clock_rate, uint8_t volume);
/* press(): false for a key that is not DTMF or a full queue. */
bool dtmf_sender_press(dtmf_sender *d, char key, uint32_t duration_ms);
bool dtmf_sender_active(const dtmf_sender *d);
/* tick(): the datagram for this interval into out (its length), or 0 when idle. */
size_t dtmf_sender_tick(dtmf_sender *d, uint8_t *out, size_t cap);

/* DtmfReceiver. */
typedef struct {
  bool has;
  uint32_t ssrc, timestamp;
  uint8_t event;
  uint32_t duration;
  bool ended;
} dtmf_receiver;

void dtmf_receiver_init(dtmf_receiver *r);
/* push(): a new key press into *key (true), or false. */
bool dtmf_receiver_push(dtmf_receiver *r, const rtp_packet *p, char *key);

/* ---- SRTP, AES_CM_128_HMAC_SHA1_80 ---- */

#define SRTP_MASTER_BYTES 30
#define SRTP_TAG_BYTES 10

typedef struct srtp_sender srtp_sender;
typedef struct srtp_receiver srtp_receiver;

typedef enum { SRTP_OK = 0, SRTP_MALFORMED, SRTP_AUTH, SRTP_REPLAY } srtp_result;

/* NULL if OpenSSL fails or no memory. `master`: 16 bytes key, 14 bytes salt. */
srtp_sender *srtp_sender_new(const uint8_t master[SRTP_MASTER_BYTES]);
void srtp_sender_free(srtp_sender *s);
/* protect(): the SRTP datagram into out (len + 10), or 0 (cap too small, not RTP). */
size_t srtp_protect(srtp_sender *s, const uint8_t *rtp, size_t len, uint8_t *out, size_t cap);

srtp_receiver *srtp_receiver_new(const uint8_t master[SRTP_MASTER_BYTES]);
void srtp_receiver_free(srtp_receiver *r);
/* unprotect(): the RTP packet into out (*out_len), or why it was dropped. */
srtp_result srtp_unprotect(srtp_receiver *r, const uint8_t *in, size_t len, uint8_t *out,
                           size_t cap, size_t *out_len);
/* The counts behind MediaStats' srtpAuthFailed / srtpReplayed. */
void srtp_receiver_counts(const srtp_receiver *r, double *auth, double *replay);

#endif
