/*
** fetch.c -- `cnsearch fetch`: download the pages the notes link to.
**
** Brings the index up to date first (unless --no-update), so links added
** since the last search are fetched too, then runs cns_fetch() with
** progress on a terminal and one summary line on stderr.  Single pages
** that fail are not errors: they are counted, and `fetch --failed` lists
** them (url: why) on stdout.  Exit 0 unless the index could not be
** written; 130 after Ctrl-C (143 after SIGTERM), with everything finished so far kept.
** CNSEARCH_FETCH_TIMEOUT (seconds) shortens the per-page timeout, for
** tests and slow links.
*/
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "cli/cli.h"

typedef struct progress_state {
  struct timespec start;
} progress_state;

static void on_progress(void *arg, const cns_fetch_stats *st) {
  progress_state *ps = arg;
  if (!st->total) return;
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  double secs = (double)(now.tv_sec - ps->start.tv_sec) +
                (double)(now.tv_nsec - ps->start.tv_nsec) / 1e9;
  fprintf(stderr, "\r\033[Kcnsearch: fetching %ld/%ld pages", st->done,
          st->total);
  if (secs > 0.5) {
    double rate = (double)st->done / secs;
    fprintf(stderr, ", %.1f/s", rate);
    if (rate > 0 && st->done < st->total)
      fprintf(stderr, ", %.0f s left", (double)(st->total - st->done) / rate);
  }
  if (st->failed) fprintf(stderr, ", %ld failed", st->failed);
  if (st->done == st->total) fputc('\n', stderr);
}

static void print_failure(void *arg, const char *url, const char *error) {
  (void)arg;
  printf("%s: %s\n", url, error);
}

static void summary(const cns_fetch_stats *st) {
  fprintf(stderr, "cnsearch: fetched %ld, unchanged %ld", st->fetched,
          st->unchanged);
  if (st->skipped) fprintf(stderr, ", not text %ld", st->skipped);
  fprintf(stderr, ", failed %ld", st->failed);
  if (st->pruned)
    fprintf(stderr, ", %ld no longer linked dropped", st->pruned);
  if (st->failed)
    fprintf(stderr, " \xE2\x80\x94 cnsearch fetch --failed to list them");
  fputc('\n', stderr);
}

static long env_timeout(void) {
  const char *e = getenv("CNSEARCH_FETCH_TIMEOUT");
  if (!e || !*e) return 0;
  char *end;
  long v = strtol(e, &end, 10);
  if (*end || v <= 0)
    cli_die_usage("CNSEARCH_FETCH_TIMEOUT wants a number of seconds > 0, "
                  "not '%s'", e);
  return v;
}

static int list_failed(const opts *o) {
  cns *h;
  if (cli_open(o, CNS_OPEN_READONLY, &h)) return EXIT_ERROR;
  int rc = cns_fetch_failures(h, print_failure, NULL);
  if (rc) rc = cli_fail_rc(h, rc);
  fflush(stdout);
  cns_close(h);
  return rc;
}

int cli_fetch(const opts *o) {
  if (o->failed) return list_failed(o);
  cns_fetch_opts fo = {0};
  fo.jobs = o->jobs > 1000 ? 1000 : (int)o->jobs;
  fo.refresh = o->refresh;
  fo.max_age_days = o->max_age;
  fo.timeout = env_timeout();
  cns *h;
  if (cli_open(o, CNS_OPEN_CREATE, &h)) return EXIT_ERROR;
  int rc = 0;
  if (!o->no_update && (rc = cli_freshen(o, h, NULL, NULL)) != 0) {
    rc = cli_fail_rc(h, rc);
    cns_close(h);
    return rc;
  }
  progress_state ps;
  clock_gettime(CLOCK_MONOTONIC, &ps.start);
  int tty = isatty(2) && !o->quiet;
  cns_fetch_stats st;
  rc = cns_fetch(h, &fo, &st, tty ? on_progress : NULL, &ps);
  if (tty && st.total && st.done != st.total) fputc('\n', stderr);
  if (!o->quiet && (!rc || rc == CNS_EINTR)) summary(&st);
  if (rc) rc = cli_fail_rc(h, rc);
  cns_close(h);
  return rc;
}
