/*
** autowatch.c -- start `cnsearch watch` in the background for a large
** folder.
**
** Every search and every `cnsearch index` makes sure the index is fresh.
** With a watcher running that costs a few milliseconds (it is asked,
** cns_watcher_sync()); without one it is a walk of the notes, one to
** three microseconds of kernel time per note however lean the walk: 45 ms
** at 43,000 notes and 215 ms at 220,000 on the machines we measure on
** (bench/README.md) -- more than a search should cost, and more than a
** saved note should take to show.  From 5,000 notes on, the walk alone
** takes longer than the search it serves (at 4,796 notes on a slow
** machine: 7.2 ms without it, 20 ms with it).  Well below that, a saved
** note already shows sooner through a watcher: a fresh process must
** start, open the index and fill its caches before it reindexes the note,
** and FTS5's merges and SQLite's checkpoints fall in its commit, where
** the watcher runs them between updates.  One 115 KB note in a folder of
** 1,030, saved and then indexed, 20 times (bench/timeit): 37 ms p50 and
** 44 ms p95 through the walk, 19 and 24 through a watcher; at 2,162
** notes (gen --size 10M) the walk made it 47 and 56 ms, over the 50 ms a
** saved note should take.  So after walking a folder of AUTOWATCH_MIN
** (1,000) notes or more, the command leaves a watcher behind, as git's
** core.fsmonitor starts its daemon: the next search asks it instead of
** walking.  A --no-update search, which walks nothing, does the same when
** the index holds as many notes (and can be written): the watcher answers
** the next one too, from its open index (at 45 MB 7.4 ms where a search
** of its own took 11; bench/RESULTS.md).  A smaller folder gets no
** process of its own: its walk costs a few milliseconds, and such an
** update stays under 50 ms on a quiet machine (the 1,030 notes above,
** unwatched) until a regex search has built the regex index, which the
** update then keeps too (48 ms p50, 58 ms p95).  A watcher ends after
** watch.idle (7 days) without a search, or when its index file goes.  It
** used to end after 30 minutes, which made the first search of every
** sitting walk again (and the first update of a saved note, 124 ms at
** 200 MB where the watcher takes 33); asleep it costs 8 MB of memory and
** one inotify watch per folder (474 at 200 MB), and watchman, too, lets
** an unused watch go only after 5 days.
** `watch = never` in the config or
** CNSEARCH_WATCH=never turns this off; `always` starts one for any
** folder.  A watcher that failed (inotify's watch limit, say) is not
** started again for an hour: cns_watcher_failed() reads why from the lock.
**
** The watcher is this same program (/proc/self/exe), run as `cnsearch
** --quiet -C ROOT --index=INDEX watch --idle=Ns`, detached by a double
** fork: a session of its own, no terminal, /dev/null for its standard
** streams and none of our other descriptors, so a shell's $(cnsearch ...)
** or an editor's pipe never waits for it.  Starting it is best effort:
** the search has its answer already, and a watcher that does not come up
** only means the next search walks.
*/
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cli/cli.h"

#define AUTOWATCH_MIN 1000 /* notes: where a saved note shows sooner watched */
#define FAILED_PAUSE 3600   /* seconds before a failed watcher is retried */

/* CNSEARCH_WATCH, or the config's watch setting: CFG_WATCH_*. */
static int watch_mode(const cns *h) {
  const char *e = getenv("CNSEARCH_WATCH");
  int m = e && *e ? cfg_watch_mode(e) : -1; /* cli_open() checked it */
  return m >= 0 ? m : h->cfg.watch;
}

/* In the grandchild: detach and become the watcher.  Only
** async-signal-safe calls from here on. */
static void become_watcher(const char *self, char *const argv[]) {
  int null = open("/dev/null", O_RDWR);
  if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
    _exit(127);
  close_range(3, ~0U, 0);
  if (chdir("/") != 0) _exit(127);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  signal(SIGPIPE, SIG_DFL);
  execv(self, argv);
  _exit(127);
}

/* Run argv detached; the child in between exits at once, so no zombie is
** left and the watcher's parent becomes init.  1 if the watcher's
** process was made (whether it comes up is its own business). */
static int spawn(const char *self, char *const argv[]) {
  int status = 0;
  pid_t pid = fork();
  if (pid < 0) return 0;
  if (pid == 0) {
    if (setsid() < 0) _exit(127);
    pid_t g = fork();
    if (g == 0) become_watcher(self, argv);
    _exit(g < 0 ? 127 : 0);
  }
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return 0;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

void cli_autowatch(const opts *o, cns *h, long notes) {
  int mode = watch_mode(h);
  if (mode == CFG_WATCH_NEVER ||
      (mode == CFG_WATCH_AUTO && notes < AUTOWATCH_MIN) ||
      cns_watcher_running(h) || cns_watcher_failed(h, FAILED_PAUSE))
    return;
  char self[PATH_MAX], *index = realpath(h->index_path, NULL);
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (!index || n <= 0) {
    free(index);
    return;
  }
  self[n] = 0;
  char *dir = cns_xasprintf("--dir=%s", h->root),
       *ix = cns_xasprintf("--index=%s", index),
       *idle = cns_xasprintf("--idle=%lds", h->cfg.watch_idle);
  char *argv[] = {"cnsearch", "--quiet", dir, ix, "watch", idle, NULL};
  long t = h->cfg.watch_idle, unit = t % 60 ? 1 : t % 3600 ? 60
                                    : t % 86400 ? 3600 : 86400;
  if (spawn(self, argv) && !o->quiet && isatty(2))
    fprintf(stderr, "cnsearch: started 'cnsearch watch' in the background "
                    "to keep this index of %ld notes fresh; it stops after "
                    "%ld %s without a search ('watch = never' in "
                    ".cnsearch/config turns this off)\n",
            notes, t / unit, unit == 1 ? "s" : unit == 60 ? "min"
                             : unit == 3600 ? "h" : t == unit ? "day" : "days");
  free(index);
  free(dir);
  free(ix);
  free(idle);
}
