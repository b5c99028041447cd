/*
 * SRTP with AES_CM_128_HMAC_SHA1_80 [S-4, S-5] (RFC 3711 §3, §4): a port of protocol/srtp/
 * (kdf.ts, hmac.ts, replay.ts, header.ts, transform.ts) with the same answers, over the
 * OpenSSL libcrypto that Node carries (its headers come with Node's, its symbols resolve
 * against the running node at load time).
 *
 *    | RTP header, CSRCs, header extension        (clear)     |  authenticated
 *    | payload, padding           (AES-CM encrypted, §4.1.1)  |  authenticated
 *    | tag: first 80 bits of HMAC-SHA1(k_a, packet || ROC) (§4.2)
 *
 * The packet index is ROC * 2^16 + SEQ; the IV of a packet is
 * (k_s * 2^16) XOR (SSRC * 2^64) XOR (index * 2^16). Keys derive once per master key
 * (key_derivation_rate 0); each SSRC keeps its own rollover counter and, when receiving,
 * its own 128-packet replay window. The OpenSSL contexts are made once in *_new and
 * re-keyed per packet with the IV only; this file allocates nothing per packet. (OpenSSL
 * 3.0 itself, inside EVP_MAC_init's re-init, frees and re-allocates its ~100-byte SHA-1
 * context: 2 small mallocs per protect or unprotect, measured with 3.0.19. Every EVP
 * digest re-init does the same in 3.0; only the SHA1_* API, deprecated in OpenSSL 3,
 * avoids it.)
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "wire.h"

#define KEY_BYTES 16
#define SALT_BYTES 14
#define AUTH_KEY_BYTES 20
#define SHA1_BYTES 20
#define BLOCK 16
#define ROC_BYTES 4
#define RTP_FIXED_HEADER 12
#define OFF_SEQ 2
#define OFF_SSRC 8
#define SEQ_MOD 0x10000
#define HALF 0x8000
/* How many packets behind the highest one a packet may arrive (RFC 3711 asks for 64). */
#define REPLAY_WINDOW 128
/* SSRCs tracked per sender or receiver; beyond this the oldest is forgotten. */
#define MAX_STREAMS 16
/* One IV covers 2^16 blocks (the counter is its low 16 bits, §4.1.1). */
#define MAX_CRYPT_BYTES ((size_t)BLOCK * 0x10000)

/* KDF labels (§4.3.2). */
#define LABEL_RTP_ENCRYPTION 0x00
#define LABEL_RTP_AUTHENTICATION 0x01
#define LABEL_RTP_SALT 0x02

/* ---- the RTP header's length (header.ts) ---- */

/* The header length of the RTP packet in buf[0..end), or -1 if it is not RTP version 2 or
 * its CSRC list or header extension runs past end. */
static long rtp_header_length(const uint8_t *buf, size_t end) {
  if (end < RTP_FIXED_HEADER || (buf[0] & 0xc0) != 0x80) return -1;
  size_t len = RTP_FIXED_HEADER + 4 * (size_t)(buf[0] & 0x0f);
  if (buf[0] & 0x10) {
    if (len + 4 > end) return -1;
    len += 4 + 4 * (size_t)((buf[len + 2] << 8) | buf[len + 3]);
  }
  return len <= end ? (long)len : -1;
}

/* ---- session keys and the per-packet crypto (kdf.ts, hmac.ts) ---- */

typedef struct {
  EVP_CIPHER_CTX *aes; /* AES-128-CTR under k_e; re-initialised with each packet's IV */
  EVP_MAC_CTX *mac;    /* HMAC-SHA1 under k_a */
  uint8_t salt[SALT_BYTES];
} session;

/* AES-CM keystream (or `in` XOR it) of `len` bytes for `iv` under the context's key. The
 * counter runs over the IV's low 16 bits; OpenSSL's CTR carries into the rest, which
 * never happens within MAX_CRYPT_BYTES of an IV whose low 16 bits are 0. */
static bool aes_cm(EVP_CIPHER_CTX *ctx, const uint8_t iv[BLOCK], const uint8_t *in, uint8_t *out,
                   size_t len) {
  if (len > MAX_CRYPT_BYTES) return false;
  if (EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, iv) != 1) return false;
  int n = 0;
  if (len > 0 && EVP_EncryptUpdate(ctx, out, &n, in, (int)len) != 1) return false;
  return (size_t)n == len;
}

/* One session key (§4.3.1): with key_derivation_rate 0, x = (label << 48) XOR master_salt,
 * and the key is AES-CM under the master key with IV = x * 2^16. */
static bool derive_key(EVP_CIPHER_CTX *master, const uint8_t *master_salt, uint8_t label,
                       uint8_t *out, size_t len) {
  uint8_t iv[BLOCK] = {0};
  memcpy(iv, master_salt, SALT_BYTES);
  iv[7] ^= label;
  memset(out, 0, len);
  return aes_cm(master, iv, out, out, len);
}

/* Test hooks (test_wire.c declares them; not part of wire.h): the RFC 3711 B.2 keystream
 * and B.3 derivation. false if OpenSSL fails or len is out of range. */
bool srtp_test_keystream(const uint8_t key[KEY_BYTES], const uint8_t iv[BLOCK], uint8_t *out,
                         size_t len);
bool srtp_test_derive(const uint8_t master[SRTP_MASTER_BYTES], uint8_t label, uint8_t *out,
                      size_t len);

bool srtp_test_keystream(const uint8_t key[KEY_BYTES], const uint8_t iv[BLOCK], uint8_t *out,
                         size_t len) {
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  if (ctx == NULL) return false;
  memset(out, 0, len);
  bool ok = EVP_EncryptInit_ex(ctx, EVP_aes_128_ctr(), NULL, key, NULL) == 1 &&
            aes_cm(ctx, iv, out, out, len);
  EVP_CIPHER_CTX_free(ctx);
  return ok;
}

bool srtp_test_derive(const uint8_t master[SRTP_MASTER_BYTES], uint8_t label, uint8_t *out,
                      size_t len) {
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  if (ctx == NULL) return false;
  bool ok = EVP_EncryptInit_ex(ctx, EVP_aes_128_ctr(), NULL, master, NULL) == 1 &&
            derive_key(ctx, master + KEY_BYTES, label, out, len);
  EVP_CIPHER_CTX_free(ctx);
  return ok;
}

static void session_free(session *s) {
  EVP_CIPHER_CTX_free(s->aes);
  EVP_MAC_CTX_free(s->mac);
  OPENSSL_cleanse(s->salt, sizeof s->salt);
  s->aes = NULL;
  s->mac = NULL;
}

static bool session_init(session *s, const uint8_t master[SRTP_MASTER_BYTES]) {
  uint8_t enc_key[KEY_BYTES], auth_key[AUTH_KEY_BYTES];
  EVP_MAC *hmac = NULL;
  bool ok = false;
  s->aes = EVP_CIPHER_CTX_new();
  s->mac = NULL;
  if (s->aes == NULL) goto done;
  /* The master key's cipher derives the session keys, then the same context takes k_e. */
  if (EVP_EncryptInit_ex(s->aes, EVP_aes_128_ctr(), NULL, master, NULL) != 1) goto done;
  const uint8_t *master_salt = master + KEY_BYTES;
  if (!derive_key(s->aes, master_salt, LABEL_RTP_ENCRYPTION, enc_key, KEY_BYTES) ||
      !derive_key(s->aes, master_salt, LABEL_RTP_SALT, s->salt, SALT_BYTES) ||
      !derive_key(s->aes, master_salt, LABEL_RTP_AUTHENTICATION, auth_key, AUTH_KEY_BYTES))
    goto done;
  if (EVP_EncryptInit_ex(s->aes, NULL, NULL, enc_key, NULL) != 1) goto done;
  hmac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
  if (hmac == NULL) goto done;
  s->mac = EVP_MAC_CTX_new(hmac);
  if (s->mac == NULL) goto done;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA1", 0),
      OSSL_PARAM_construct_end(),
  };
  if (EVP_MAC_init(s->mac, auth_key, AUTH_KEY_BYTES, params) != 1) goto done;
  ok = true;
done:
  EVP_MAC_free(hmac); /* the context keeps its own reference */
  OPENSSL_cleanse(enc_key, sizeof enc_key);
  OPENSSL_cleanse(auth_key, sizeof auth_key);
  if (!ok) session_free(s);
  return ok;
}

/* dst[from..end) = src[from..end) XOR the keystream of (ssrc, roc, seq) (§4.1.1). */
static bool session_crypt(session *s, const uint8_t *src, uint8_t *dst, size_t from, size_t end,
                          uint32_t ssrc, uint32_t roc, uint16_t seq) {
  uint8_t iv[BLOCK];
  const uint8_t *salt = s->salt;
  for (int i = 0; i < 4; i++) iv[i] = salt[i];
  iv[4] = salt[4] ^ (uint8_t)(ssrc >> 24);
  iv[5] = salt[5] ^ (uint8_t)(ssrc >> 16);
  iv[6] = salt[6] ^ (uint8_t)(ssrc >> 8);
  iv[7] = salt[7] ^ (uint8_t)ssrc;
  iv[8] = salt[8] ^ (uint8_t)(roc >> 24);
  iv[9] = salt[9] ^ (uint8_t)(roc >> 16);
  iv[10] = salt[10] ^ (uint8_t)(roc >> 8);
  iv[11] = salt[11] ^ (uint8_t)roc;
  iv[12] = salt[12] ^ (uint8_t)(seq >> 8);
  iv[13] = salt[13] ^ (uint8_t)seq;
  iv[14] = 0;
  iv[15] = 0;
  return aes_cm(s->aes, iv, src + from, dst + from, end - from);
}

/* The full HMAC-SHA1 of buf[0..end) || ROC (§4.2); the tag is its first 10 bytes. */
static bool session_mac(session *s, const uint8_t *buf, size_t end, uint32_t roc,
                        uint8_t mac[SHA1_BYTES]) {
  uint8_t roc_be[ROC_BYTES] = {(uint8_t)(roc >> 24), (uint8_t)(roc >> 16), (uint8_t)(roc >> 8),
                               (uint8_t)roc};
  size_t n = 0;
  return EVP_MAC_init(s->mac, NULL, 0, NULL) == 1 && EVP_MAC_update(s->mac, buf, end) == 1 &&
         EVP_MAC_update(s->mac, roc_be, ROC_BYTES) == 1 &&
         EVP_MAC_final(s->mac, mac, &n, SHA1_BYTES) == 1 && n == SHA1_BYTES;
}

/* ---- rollover counters and the replay window (replay.ts) ---- */

/* The ROC a packet with sequence `seq` most likely carries, given the highest sequence
 * `sl` seen under `roc` (Appendix A). May be -1 (before the stream began). */
static int64_t estimate_roc(int64_t roc, uint16_t sl, uint16_t seq) {
  if (sl < HALF) return (int)seq - (int)sl > HALF ? roc - 1 : roc;
  return (int)sl - HALF > (int)seq ? roc + 1 : roc;
}

typedef struct {
  uint32_t ssrc;
  int64_t roc;
  uint16_t seq;
  /* receivers: the indices seen among the last REPLAY_WINDOW (a ring of the indices
   * themselves, -1 empty), and the highest accepted */
  int64_t slots[REPLAY_WINDOW];
  int64_t highest;
} stream;

/* A Map in insertion order that forgets its oldest entry when full: a ring. */
typedef struct {
  stream streams[MAX_STREAMS];
  int count, oldest;
} stream_table;

static stream *find_stream(stream_table *t, uint32_t ssrc) {
  for (int i = 0; i < t->count; i++)
    if (t->streams[i].ssrc == ssrc) return &t->streams[i];
  return NULL;
}

static stream *remember(stream_table *t, uint32_t ssrc, int64_t roc, uint16_t seq) {
  stream *s;
  if (t->count < MAX_STREAMS) {
    s = &t->streams[t->count++];
  } else {
    s = &t->streams[t->oldest];
    t->oldest = (t->oldest + 1) % MAX_STREAMS;
  }
  s->ssrc = ssrc;
  s->roc = roc;
  s->seq = seq;
  for (int i = 0; i < REPLAY_WINDOW; i++) s->slots[i] = -1;
  s->highest = -1;
  return s;
}

/* Moves a stream's (ROC, highest SEQ) forward if (roc, seq) lies beyond it. */
static void advance(stream *s, int64_t roc, uint16_t seq) {
  if (roc > s->roc || (roc == s->roc && seq > s->seq)) {
    s->roc = roc;
    s->seq = seq;
  }
}

/* True if `index` was seen already or lies behind the window (§3.3.2). */
static bool window_rejects(const stream *s, int64_t index) {
  if (s->highest < 0 || index > s->highest) return false;
  if (s->highest - index >= REPLAY_WINDOW) return true;
  return s->slots[index % REPLAY_WINDOW] == index;
}

static void window_accept(stream *s, int64_t index) {
  s->slots[index % REPLAY_WINDOW] = index;
  if (index > s->highest) s->highest = index;
}

/* ---- the transform (transform.ts) ---- */

struct srtp_sender {
  session crypto;
  stream_table table;
};

struct srtp_receiver {
  session crypto;
  stream_table table;
  double ok, auth, replay, malformed;
};

srtp_sender *srtp_sender_new(const uint8_t master[SRTP_MASTER_BYTES]) {
  if (master == NULL) return NULL;
  srtp_sender *s = calloc(1, sizeof *s);
  if (s == NULL) return NULL;
  if (!session_init(&s->crypto, master)) {
    free(s);
    return NULL;
  }
  return s;
}

void srtp_sender_free(srtp_sender *s) {
  if (s == NULL) return;
  session_free(&s->crypto);
  free(s);
}

size_t srtp_protect(srtp_sender *s, const uint8_t *rtp, size_t len, uint8_t *out, size_t cap) {
  if (s == NULL || rtp == NULL || out == NULL) return 0;
  long header = rtp_header_length(rtp, len);
  if (header < 0) return 0;
  if (len > cap || cap - len < SRTP_TAG_BYTES || len - (size_t)header > MAX_CRYPT_BYTES) return 0;
  uint16_t seq = (uint16_t)((rtp[OFF_SEQ] << 8) | rtp[OFF_SEQ + 1]);
  uint32_t ssrc = ((uint32_t)rtp[OFF_SSRC] << 24) | ((uint32_t)rtp[OFF_SSRC + 1] << 16) |
                  ((uint32_t)rtp[OFF_SSRC + 2] << 8) | rtp[OFF_SSRC + 3];
  stream *st = find_stream(&s->table, ssrc);
  if (st == NULL) st = remember(&s->table, ssrc, 0, seq);
  /* A sequence number that reads as "just before the stream began" stays under ROC 0. */
  int64_t roc = estimate_roc(st->roc, st->seq, seq);
  if (roc < 0) roc = 0;
  advance(st, roc, seq);
  memmove(out, rtp, (size_t)header);
  uint8_t mac[SHA1_BYTES];
  if (!session_crypt(&s->crypto, rtp, out, (size_t)header, len, ssrc, (uint32_t)roc, seq) ||
      !session_mac(&s->crypto, out, len, (uint32_t)roc, mac))
    return 0;
  memcpy(out + len, mac, SRTP_TAG_BYTES);
  return len + SRTP_TAG_BYTES;
}

srtp_receiver *srtp_receiver_new(const uint8_t master[SRTP_MASTER_BYTES]) {
  if (master == NULL) return NULL;
  srtp_receiver *r = calloc(1, sizeof *r);
  if (r == NULL) return NULL;
  if (!session_init(&r->crypto, master)) {
    free(r);
    return NULL;
  }
  return r;
}

void srtp_receiver_free(srtp_receiver *r) {
  if (r == NULL) return;
  session_free(&r->crypto);
  free(r);
}

/*
 * The replay check comes before authentication (cheap, §3.3.2), but only an authenticated
 * packet moves the window or the rollover counter, so forged packets cannot shift a
 * stream's state. A new SSRC starts under ROC 0 from whatever sequence number it first
 * shows (§3.3.1). The input is never written to. A packet that does not fit `cap` (or
 * whose payload exceeds one IV's keystream, which no datagram reaches) counts as malformed.
 */
srtp_result srtp_unprotect(srtp_receiver *r, const uint8_t *in, size_t len, uint8_t *out,
                           size_t cap, size_t *out_len) {
  if (out_len != NULL) *out_len = 0;
  if (r == NULL) return SRTP_MALFORMED;
  long header = -1;
  size_t end = 0;
  if (in != NULL && len >= SRTP_TAG_BYTES + RTP_FIXED_HEADER) {
    end = len - SRTP_TAG_BYTES;
    header = rtp_header_length(in, end);
  }
  if (header < 0 || out == NULL || end > cap || end - (size_t)header > MAX_CRYPT_BYTES) {
    r->malformed++;
    return SRTP_MALFORMED;
  }
  uint16_t seq = (uint16_t)((in[OFF_SEQ] << 8) | in[OFF_SEQ + 1]);
  uint32_t ssrc = ((uint32_t)in[OFF_SSRC] << 24) | ((uint32_t)in[OFF_SSRC + 1] << 16) |
                  ((uint32_t)in[OFF_SSRC + 2] << 8) | in[OFF_SSRC + 3];
  stream *st = find_stream(&r->table, ssrc);
  int64_t roc = st != NULL ? estimate_roc(st->roc, st->seq, seq) : 0;
  int64_t index = roc * SEQ_MOD + seq;
  if (roc < 0 || (st != NULL && window_rejects(st, index))) {
    r->replay++;
    return SRTP_REPLAY;
  }
  uint8_t mac[SHA1_BYTES];
  if (!session_mac(&r->crypto, in, end, (uint32_t)roc, mac)) {
    r->auth++;
    return SRTP_AUTH;
  }
  /* Constant time: every byte compared, no early exit. */
  uint8_t diff = 0;
  for (int i = 0; i < SRTP_TAG_BYTES; i++) diff |= mac[i] ^ in[end + i];
  if (diff != 0) {
    r->auth++;
    return SRTP_AUTH;
  }
  memmove(out, in, (size_t)header);
  if (!session_crypt(&r->crypto, in, out, (size_t)header, end, ssrc, (uint32_t)roc, seq)) {
    r->malformed++;
    return SRTP_MALFORMED;
  }
  if (st == NULL) st = remember(&r->table, ssrc, roc, seq);
  advance(st, roc, seq);
  window_accept(st, index);
  r->ok++;
  if (out_len != NULL) *out_len = end;
  return SRTP_OK;
}

void srtp_receiver_counts(const srtp_receiver *r, double *auth, double *replay) {
  if (auth != NULL) *auth = r != NULL ? r->auth : 0;
  if (replay != NULL) *replay = r != NULL ? r->replay : 0;
}

/* Test hook (test_wire.c declares it; not part of wire.h): all four counters of the TS
 * receiver's `stats`. */
void srtp_test_stats(const srtp_receiver *r, double *ok, double *auth, double *replay,
                     double *malformed);
void srtp_test_stats(const srtp_receiver *r, double *ok, double *auth, double *replay,
                     double *malformed) {
  *ok = r->ok;
  *auth = r->auth;
  *replay = r->replay;
  *malformed = r->malformed;
}
