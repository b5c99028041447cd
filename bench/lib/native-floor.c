/*
 * The native runtime floor of bench/device.ts: what a C media loop pays for a call's
 * wake-ups, with no codec and no logic. The same work as the bench's bare Node floor:
 * two 20 ms periodic timers, each sending an 80-byte UDP datagram to the other socket,
 * both sockets read as datagrams arrive; one thread, ppoll() with absolute deadlines
 * (baresip's audio thread works this way).
 *
 *   cc -O2 -o native-floor native-floor.c && ./native-floor SECONDS
 *
 * Prints the CPU it used as a percentage of one core: `native_floor_pct=N`.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int udp_socket(struct sockaddr_in *addr) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  socklen_t len = sizeof *addr;
  memset(addr, 0, sizeof *addr);
  addr->sin_family = AF_INET;
  addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || bind(fd, (struct sockaddr *)addr, sizeof *addr) != 0 ||
      getsockname(fd, (struct sockaddr *)addr, &len) != 0) {
    perror("native-floor: socket");
    exit(1);
  }
  return fd;
}

static double cpu_ms(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec * 1e3 + u.ru_utime.tv_usec / 1e3 + u.ru_stime.tv_sec * 1e3 +
         u.ru_stime.tv_usec / 1e3;
}

int main(int argc, char **argv) {
  const long long frame = 20000000LL;
  double seconds = argc > 1 ? atof(argv[1]) : 10;
  if (seconds <= 0) {
    fprintf(stderr, "usage: native-floor SECONDS\n");
    return 2;
  }
  struct sockaddr_in addr[2];
  int fd[2] = {udp_socket(&addr[0]), udp_socket(&addr[1])};
  char pkt[80] = {0}, in[1500];
  long long start = now_ns(), end = start + (long long)(seconds * 1e9);
  /* The two timers run half a frame apart, as a capture and a playout clock would. */
  long long due[2] = {start + frame, start + frame + frame / 2};
  double cpu0 = cpu_ms();
  long received = 0;
  for (;;) {
    long long now = now_ns();
    if (now >= end) break;
    for (int i = 0; i < 2; i++) {
      if (now < due[i]) continue;
      sendto(fd[i], pkt, sizeof pkt, 0, (struct sockaddr *)&addr[1 - i], sizeof addr[0]);
      due[i] += frame;
    }
    long long next = due[0] < due[1] ? due[0] : due[1];
    long long wait = next > now ? next - now : 0;
    struct timespec ts = {wait / 1000000000LL, wait % 1000000000LL};
    struct pollfd p[2] = {{.fd = fd[0], .events = POLLIN}, {.fd = fd[1], .events = POLLIN}};
    if (ppoll(p, 2, &ts, NULL) <= 0) continue;
    for (int i = 0; i < 2; i++)
      while ((p[i].revents & POLLIN) && recv(fd[i], in, sizeof in, 0) > 0) received++;
  }
  double used = cpu_ms() - cpu0;
  printf("received=%ld native_floor_pct=%.3f\n", received, 100.0 * used / (seconds * 1000.0));
  return 0;
}
