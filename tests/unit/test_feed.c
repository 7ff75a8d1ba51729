/*
** test_feed.c -- the feed hands every note back in order, whatever the
** pace of either thread, and frees all it made.
**
** The making thread sleeps when it is FEED_SLOTS notes or FEED_BYTES
** ahead and is woken when the writer has taken half; it frees what the
** writer released.  These tests take notes slowly (so the thread fills
** the ring and sleeps), quickly (so the writer waits), through notes
** larger than half of FEED_BYTES (so bytes, not slots, stop the thread),
** and stop half way (so feed_end() frees released and unreleased notes
** alike: ASan and valgrind see a leak otherwise).  A lost wake-up hangs
** the test, which tests/run.sh stops and reports.
*/
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cnsint.h"
#include "check.h"

#define NOTES 300
#define BIG_NOTE 7               /* this one is big: */
#define BIG_BYTES (17u << 20)    /* over half of feed.c's FEED_BYTES, 32 MB */

static size_t note_size(int i) {
  return i == BIG_NOTE ? BIG_BYTES : 200 + (size_t)(i * 37 % 3000);
}

/* Note i: a heading naming it, then words up to its size. */
static char *note_text(int i, size_t *len) {
  size_t n = note_size(i);
  char *t = cns_xmalloc(n + 1);
  int head = snprintf(t, n + 1, "# Note %d\n\n", i);
  static const char words[] = "router shard token expert gate ";
  for (size_t k = (size_t)head; k < n; k++)
    t[k] = k + 1 == n ? '\n' : words[k % (sizeof words - 1)];
  t[n] = 0;
  *len = n;
  return t;
}

static void write_notes(const char *dir, scan_entry *v) {
  int written = 1;
  for (int i = 0; i < NOTES; i++) {
    size_t len;
    char *t = note_text(i, &len);
    v[i].path = cns_xasprintf("n%03d.md", i);
    char *p = cns_xasprintf("%s/%s", dir, v[i].path);
    FILE *f = fopen(p, "w");
    written &= f && fwrite(t, 1, len, f) == len;
    if (f) written &= fclose(f) == 0;
    v[i].size = (long long)len;
    free(p);
    free(t);
  }
  CHECK(written);
}

static void nap(long us) {
  struct timespec ts = {0, us * 1000};
  nanosleep(&ts, NULL);
}

/* Take up to `take` notes (all with NOTES), checking each is the next in
** order and whole; pause `pause_us` every `every` notes. */
static void run_feed(sqlite3 *db, const char *dir, const scan_entry *const *pv,
                     int take, int every, long pause_us) {
  feed *f = feed_start(db, dir, pv, NOTES, NULL);
  feed_item *it;
  int i = 0, in_order = 1, whole = 1;
  while (i < take && (it = feed_next(f)) != NULL) {
    char head[32];
    snprintf(head, sizeof head, "# Note %d\n", i);
    in_order &= it->e == pv[i];
    whole &= it->ok && it->len == note_size(i) &&
             strncmp(it->text, head, strlen(head)) == 0;
    if (every && i % every == 0) nap(pause_us);
    feed_release(f, it);
    i++;
  }
  CHECK_INT(i, take);
  CHECK(in_order);
  CHECK(whole);
  if (take == NOTES) CHECK(feed_next(f) == NULL);
  feed_end(f);
}

int main(void) {
  char dir[] = "/tmp/cns-test-feed-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  scan_entry *v = cns_xcalloc(NOTES, sizeof *v);
  const scan_entry **pv = cns_xcalloc(NOTES, sizeof *pv);
  for (int i = 0; i < NOTES; i++) pv[i] = &v[i];
  write_notes(dir, v);
  sqlite3 *db = check_open_index_db(":memory:");
  run_feed(db, dir, pv, NOTES, 3, 3000);  /* slow writer: the ring fills */
  run_feed(db, dir, pv, NOTES, 0, 0);     /* fast writer: it waits */
  run_feed(db, dir, pv, NOTES / 2, 5, 2000); /* stopped half way */
  run_feed(db, dir, pv, 0, 0, 0);         /* stopped before the first */
  sqlite3_close(db);
  for (int i = 0; i < NOTES; i++) {
    char *p = cns_xasprintf("%s/%s", dir, v[i].path);
    unlink(p);
    free(p);
    free(v[i].path);
  }
  free(v);
  free(pv);
  rmdir(dir);
  return check_done("test_feed");
}
