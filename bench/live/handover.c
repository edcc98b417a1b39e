/* How late libpcap hands captured frames to a reader with the sensor's settings (snaplen 128,
 * 1 ms read timeout, 32 MiB buffer): for each batch of pcap_dispatch, the time from a frame's
 * capture timestamp to its callback. Prints the first frame's delay and the spread over WANT frames.
 *   handover DEVICE IMMEDIATE(0|1) WANT FILTER
 * Built and run by handover.sh; stops after 30 s at most. */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double delays[100000];
static int count;

static void on_frame(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes) {
  (void)user; (void)bytes;
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  double ms = (now.tv_sec - h->ts.tv_sec) * 1e3 + (now.tv_nsec / 1e6 - h->ts.tv_usec / 1e3);
  if (count < 100000) delays[count++] = ms;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc != 5) { fprintf(stderr, "usage: handover DEVICE IMMEDIATE WANT FILTER\n"); return 2; }
  char error[PCAP_ERRBUF_SIZE];
  pcap_t *p = pcap_create(argv[1], error);
  if (!p) { fprintf(stderr, "%s\n", error); return 1; }
  pcap_set_snaplen(p, 128);
  pcap_set_timeout(p, 1);
  pcap_set_immediate_mode(p, atoi(argv[2]));
  pcap_set_buffer_size(p, 32 << 20);
  if (pcap_activate(p) < 0) { fprintf(stderr, "%s\n", pcap_geterr(p)); return 1; }
  struct bpf_program filter;
  if (pcap_compile(p, &filter, argv[4], 1, 0) != 0 || pcap_setfilter(p, &filter) != 0) { fprintf(stderr, "%s\n", pcap_geterr(p)); return 1; }
  int want = atoi(argv[3]);
  time_t end = time(NULL) + 30;
  int first_batch = 0;
  double first = -1;
  while (count < want && time(NULL) < end) {
    int before = count;
    pcap_dispatch(p, -1, on_frame, NULL);
    if (first < 0 && count > before) { first = delays[before]; first_batch = count - before; }
  }
  if (count == 0) { printf("no frame\n"); return 1; }
  double first_frame = delays[0];
  qsort(delays, count, sizeof(double), by_value);
  printf("first frame %.3f ms (first batch %d frames) | %d frames: median %.3f, p90 %.3f, max %.3f ms\n",
         first_frame, first_batch, count, delays[count / 2], delays[count * 9 / 10], delays[count - 1]);
  return 0;
}
