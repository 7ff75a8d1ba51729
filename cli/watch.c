/*
** watch.c -- `cnsearch watch`: keep the index fresh until Ctrl-C.
**
** While it runs, searches of the same index ask it to catch up instead
** of walking the notes (the library's cns_watcher_sync()).  Each update
** that changed something is reported on stderr; Ctrl-C or SIGTERM ends
** it with exit 0, as does --idle=TIME without a search (the watchers
** cli/autowatch.c starts are run that way).
*/
#include <stdio.h>
#include "cli/cli.h"

static void report(void *arg, const cns_update_stats *st) {
  const opts *o = arg;
  if (o->quiet || !(st->added || st->changed || st->removed)) return;
  fprintf(stderr, "cnsearch: %ld added, %ld changed, %ld removed\n",
          st->added, st->changed, st->removed);
}

int cli_watch(const opts *o) {
  cns *h;
  long idle = o->idle ? cfg_duration(o->idle) : 0;
  if (o->idle && !idle)
    cli_die_usage("--idle wants a time such as 90s, 30m, 2h or 7d, not '%s'",
                  o->idle);
  if (cli_open(o, CNS_OPEN_CREATE, &h)) return EXIT_ERROR;
  if (!o->quiet) fprintf(stderr, "cnsearch: watching '%s' (Ctrl-C to stop)\n", h->root);
  int rc = cns_watch_serving(h, idle, report, cli_serve, (void *)o);
  if (rc) rc = cli_fail_rc(h, rc);
  cns_close(h);
  return rc;
}
