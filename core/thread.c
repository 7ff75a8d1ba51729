/*
** thread.c -- the helper threads cnsearch starts, and why signals skip them.
**
** cnsearch uses helper threads in two places, to put more cores to
** work: the indexer parses notes while SQLite writes (feed.c), and the
** walk reads folders and stats files on one worker per core (scan.c).
** Ctrl-C must still reach the thread that owns the SQLite connection,
** whose handler marks the handle interrupted and whose update then rolls
** back; so every helper starts with all signals blocked, and the kernel
** delivers them to the main thread.
** A helper that cannot be started is not an error: the caller does the
** work itself.
*/
#include <signal.h>
#include "cnsint.h"

int cns_spawn(pthread_t *th, void *(*fn)(void *), void *arg) {
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int rc = pthread_create(th, NULL, fn, arg);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return rc == 0;
}
