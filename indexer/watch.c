/*
** watch.c -- keep the index fresh as notes change (inotify), and let
** searches ask whether it is.
**
** cns_watch() takes an exclusive flock() on INDEX-watch (next to the
** index file, as SQLite keeps INDEX-wal), brings the index up to date,
** and then sleeps in inotify until a note folder changes.  Each burst of
** events (collected for DEBOUNCE_MS, so an editor's write-rename-chmod
** dance is one update) names the files and folders that changed, and
** only those are looked at again (cns_update_paths(), which judges them
** by the walk's own rules): one saved note costs a few milliseconds
** however many notes there are.  What inotify cannot say exactly -- a
** full event queue (IN_Q_OVERFLOW), a changed .gitignore or
** .cnsearchignore, more than MAX_PATHS names in one burst -- costs one
** full walk instead.  New folders get watches as they appear.
**
** A search cannot just trust a running watcher: a note saved a moment
** ago may still sit in the watcher's debounce or in inotify's queue.  So
** cns_watcher_sync() asks, the way git's fsmonitor and watchman do, with
** a cookie: it creates a file in INDEX-sync/, which the watcher also
** watches with the same inotify descriptor.  inotify queues events in
** the order they happen, so by the time the watcher reads the cookie's
** event it has read every change made before the search began.  It ends
** its debounce, applies the burst, writes "ok" and its counts into the
** cookie and removes it; the search, watching INDEX-sync/ itself, reads
** the answer from its still open descriptor.  Anything else -- no
** watcher, a watcher that dies or does not answer within SYNC_WAIT_MS,
** an update that failed -- and the search walks the notes itself.  Only
** cookies the watcher saw an event for, or found in INDEX-sync/ before a
** full walk began (at start, after an overflow), are answered, so "ok"
** always means "every change made before your cookie is indexed".
**
** The lock dies with the watcher, so a crashed watcher never leaves
** searches trusting a stale index; it is per index file, so a search of
** another index over the same notes never trusts it either.
**
** A watcher started in the background (cli/autowatch.c) is given an idle
** time: with no search asking for that long it ends, as it does at once
** when its index file is removed or replaced.  A folder it cannot watch
** (inotify's watch limit, fs.inotify.max_user_watches) is an error, never
** a silent gap: a watcher that misses a folder's changes would tell
** searches "ok" over a stale index.  Why a watcher failed is written into
** INDEX-watch, where cns_watcher_failed() finds it, so that searches do
** not start one again and again.
*/
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <dirent.h>
#include <unistd.h>
#include "cnsint.h"

#define DEBOUNCE_MS 40
#define MAX_PATHS 256
#define SYNC_WAIT_MS 5000 /* how long a search waits for the watcher */
#define SYNC_POLL_MS 100  /* how often it checks that the watcher lives */
/* The WAL is copied back into the index file from this many pages on:
** SQLite's own default, but after the answers instead of before them. */
#define CHECKPOINT_PAGES 1000
/* FTS5 merge work between updates (store_merge()) goes in steps of this
** many leaf pages, and looks for events and searches between them: at
** 200 MB a step of 128 took 12-25 ms, a wait a search arriving in the
** middle of one would add */
#define MERGE_PAGES 32
#define WATCH_MASK (IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | \
                    IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF | \
                    IN_ONLYDIR)

/* The folder (root-relative) behind each watch descriptor. */
typedef struct wdmap {
  int *wd;
  char **rel;
  size_t n;
} wdmap;

/* A running watcher. */
typedef struct watcher {
  cns *h;
  int in;            /* the inotify descriptor */
  int sync_wd;       /* its watch on INDEX-sync/ */
  char *sync_dir;    /* INDEX-sync (owned) */
  wdmap m;
  int err;           /* errno of a folder it could not watch, or 0 */
  char *err_path;    /* that folder (owned) */
  dev_t dev;         /* the index file, to notice it removed or replaced */
  ino_t ino;
  long idle_ms;      /* end after this long without a search; 0: never */
  long long last;    /* when a search last asked (now_ms()) */
  int lfd;           /* the socket searches ask on (serve.c), or -1 */
  cns_serve_fn serve; /* what answers them */
  void *serve_arg;
  unsigned seq;      /* names our own cookies */
  long long retry_at; /* when a full update is due again (a burst found
                         the index locked); 0: none */
  int wal_pages;     /* pages in INDEX-wal after our last commit */
  int merge_due;     /* we committed since FTS5's merges were last done */
} watcher;

/* A list of names (owned). */
typedef struct names {
  char **v;
  size_t n;
} names;

/* What one burst of events asks for. */
typedef struct burst {
  names paths;       /* changed files and folders, root-relative */
  names cookies;     /* searches waiting for this burst (INDEX-sync/) */
  int all;           /* a full update instead */
  int rewatch;       /* a folder appeared: watch it */
} burst;

static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* INDEX-suffix, e.g. the lock INDEX-watch.  Caller frees. */
static char *side_path(const cns *h, const char *suffix) {
  return cns_xasprintf("%s-%s", h->index_path, suffix);
}

int cns_watcher_running(cns *h) {
  char *p = side_path(h, "watch");
  int fd = open(p, O_RDONLY | O_CLOEXEC), held = 0;
  free(p);
  if (fd < 0) return 0;
  if (flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK) held = 1;
  close(fd);
  return held;
}

static void names_add(names *l, char *s /* taken */) {
  l->v = cns_xrealloc(l->v, (l->n + 1) * sizeof *l->v);
  l->v[l->n++] = s;
}

static void names_free(names *l) {
  for (size_t i = 0; i < l->n; i++) free(l->v[i]);
  free(l->v);
  memset(l, 0, sizeof *l);
}

static void map_set(wdmap *m, int wd, const char *rel) {
  for (size_t i = 0; i < m->n; i++)
    if (m->wd[i] == wd) { /* the same folder again, or a reused number */
      free(m->rel[i]);
      m->rel[i] = cns_xstrdup(rel);
      return;
    }
  m->wd = cns_xrealloc(m->wd, (m->n + 1) * sizeof *m->wd);
  m->rel = cns_xrealloc(m->rel, (m->n + 1) * sizeof *m->rel);
  m->wd[m->n] = wd;
  m->rel[m->n++] = cns_xstrdup(rel);
}

static const char *map_get(const wdmap *m, int wd) {
  for (size_t i = 0; i < m->n; i++)
    if (m->wd[i] == wd) return m->rel[i];
  return NULL;
}

static void map_free(wdmap *m) {
  for (size_t i = 0; i < m->n; i++) free(m->rel[i]);
  free(m->wd);
  free(m->rel);
}

/* A folder inotify would not watch: gone or unreadable is fine (the walk
** finds no notes there either); anything else, the watch limit above
** all, leaves a gap, and is kept in w->err. */
static void watch_failed(watcher *w, const char *path) {
  if (errno == ENOENT || errno == EACCES || errno == ENOTDIR || w->err)
    return;
  w->err = errno;
  w->err_path = cns_xstrdup(path);
}

/* Watch dir (relative to the root) and every visible folder below it.
** INDEX-sync/, should the index live among the notes, is not a note
** folder: inotify gives the same descriptor for it, which stays out of
** the map. */
static void add_tree(watcher *w, const char *rel) {
  char *path = rel[0] ? cns_xasprintf("%s/%s", w->h->root, rel)
                      : cns_xstrdup(w->h->root);
  int wd = inotify_add_watch(w->in, path, WATCH_MASK);
  if (wd >= 0 && wd == w->sync_wd) {
    free(path);
    return;
  }
  if (wd >= 0) map_set(&w->m, wd, rel);
  else watch_failed(w, path);
  DIR *d = opendir(path);
  struct dirent *de;
  while (d && (de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.' || de->d_type != DT_DIR) continue;
    char *sub = rel[0] ? cns_xasprintf("%s/%s", rel, de->d_name)
                       : cns_xstrdup(de->d_name);
    add_tree(w, sub);
    free(sub);
  }
  if (d) closedir(d);
  free(path);
}

static void burst_add(burst *b, const char *dir, const char *name) {
  if (b->paths.n == MAX_PATHS) {
    b->all = 1;
    return;
  }
  names_add(&b->paths, dir[0] ? cns_xasprintf("%s/%s", dir, name)
                              : cns_xstrdup(name));
}

static void burst_free(burst *b) {
  names_free(&b->paths);
  names_free(&b->cookies);
  memset(b, 0, sizeof *b);
}

/* Every cookie now in INDEX-sync/: the searches a full walk that starts
** after this will answer for (their events may be lost in an overflow). */
static void list_cookies(const watcher *w, names *out) {
  DIR *d = opendir(w->sync_dir);
  struct dirent *de;
  while (d && (de = readdir(d)) != NULL)
    if (de->d_name[0] != '.') names_add(out, cns_xstrdup(de->d_name));
  if (d) closedir(d);
}

/* What one event asks for. */
static void note_event(const watcher *w, const struct inotify_event *e,
                       burst *b) {
  if (e->mask & IN_Q_OVERFLOW) {
    b->all = b->rewatch = 1;
    return;
  }
  if (e->wd == w->sync_wd) {
    if ((e->mask & IN_CREATE) && e->len && e->name[0] != '.')
      names_add(&b->cookies, cns_xstrdup(e->name));
    return;
  }
  if ((e->mask & IN_ISDIR) && (e->mask & (IN_CREATE | IN_MOVED_TO)))
    b->rewatch = 1;
  if (!e->len) return; /* about the watched folder itself: its parent says */
  const char *dir = map_get(&w->m, e->wd);
  if (!dir) {
    b->all = 1;
    return;
  }
  if (e->name[0] != '.') burst_add(b, dir, e->name);
  else if (strcmp(e->name, ".gitignore") == 0 ||
           strcmp(e->name, ".cnsearchignore") == 0)
    b->all = 1; /* hidden otherwise: not a note */
}

/* Read what inotify has into b. */
static void drain(const watcher *w, burst *b) {
  char ev[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
  ssize_t n = read(w->in, ev, sizeof ev);
  for (char *p = ev; n > 0 && p < ev + n;) {
    struct inotify_event *e = (struct inotify_event *)p;
    note_event(w, e, b);
    p += sizeof *e + e->len;
  }
}

/* Answer the searches waiting in cookies: the reply goes into the file,
** which its search still holds open, and the removal wakes it. */
static void answer(const watcher *w, const names *cookies, int rc,
                   const cns_update_stats *st) {
  char reply[160];
  if (rc) snprintf(reply, sizeof reply, "error\n");
  else
    snprintf(reply, sizeof reply, "ok %ld %ld %ld %ld %ld\n", st->scanned,
             st->added, st->changed, st->removed, st->skipped);
  for (size_t i = 0; i < cookies->n; i++) {
    char *p = cns_xasprintf("%s/%s", w->sync_dir, cookies->v[i]);
    int fd = open(p, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0) {
      /* a short write leaves no "ok": the search then walks itself */
      ssize_t n = write(fd, reply, strlen(reply));
      (void)n;
      close(fd);
    }
    unlink(p); /* gone already if its search gave up */
    free(p);
  }
}

/* What the lock file says: "pid N" while the watcher runs ("pid N
** background" for one that ends when idle), "failed: why" after an
** error.  Only a hint, for messages, for cns_watcher_failed() and for
** take_over(): the lock itself is what searches trust. */
static void record_state(int fd, long idle_s, const char *why) {
  char line[600];
  if (why) snprintf(line, sizeof line, "failed: %s\n", why);
  else snprintf(line, sizeof line, "pid %ld%s\n", (long)getpid(),
                idle_s ? " background" : "");
  if (ftruncate(fd, 0) == 0) {
    ssize_t n = pwrite(fd, line, strlen(line), 0);
    (void)n;
  }
}

/* The start of what the lock file says (record_state()), in line. */
static void lock_line(int fd, char *line, size_t cap) {
  ssize_t n = pread(fd, line, cap - 1, 0);
  line[n > 0 ? n : 0] = 0;
}

/* The pid a running watcher wrote into the lock file, or 0; *background
** set for one that ends when idle. */
static long lock_pid(int fd, int *background) {
  char line[64], word[16] = {0};
  long pid = 0;
  *background = 0;
  lock_line(fd, line, sizeof line);
  if (sscanf(line, "pid %ld %15s", &pid, word) < 1) return 0;
  *background = strcmp(word, "background") == 0;
  return pid;
}

/* Is pid a `cnsearch ... watch --idle=...`, by its command line? */
static int is_background_watcher(long pid) {
  char path[64], cmd[4096];
  snprintf(path, sizeof path, "/proc/%ld/cmdline", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC), watch = 0, idle = 0;
  ssize_t n = fd >= 0 ? read(fd, cmd, sizeof cmd - 1) : -1;
  if (fd >= 0) close(fd);
  if (n > 0) cmd[n] = 0;
  for (ssize_t i = 0; i < n; i += (ssize_t)strlen(cmd + i) + 1) {
    watch |= strcmp(cmd + i, "watch") == 0;
    idle |= strncmp(cmd + i, "--idle=", 7) == 0;
  }
  return watch && idle;
}

/* A watcher run by hand takes over from one a search started in the
** background (a systemd unit's, say, would otherwise fail while that one
** lives): it asks it to stop and waits for the lock, 5 s at most. */
static int take_over(int fd, long pid) {
  if (!is_background_watcher(pid) || kill((pid_t)pid, SIGTERM) != 0)
    return 0;
  for (int i = 0; i < 100; i++) {
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) return 1;
    poll(NULL, 0, 50);
  }
  return 0;
}

int cns_watcher_failed(cns *h, long within_s) {
  char *p = side_path(h, "watch");
  struct stat sb;
  char head[8];
  int fd = open(p, O_RDONLY | O_CLOEXEC), failed = 0;
  free(p);
  if (fd < 0) return 0;
  if (fstat(fd, &sb) == 0 && time(NULL) - sb.st_mtime < within_s) {
    lock_line(fd, head, sizeof head);
    failed = strcmp(head, "failed:") == 0;
  }
  close(fd);
  return failed;
}

/* Another watcher holds the lock. */
static int busy(cns *h, long pid) {
  if (!pid)
    return cns_seterr(h, CNS_EBUSY, "another 'cnsearch watch' is already "
                                    "keeping '%s' fresh", h->index_path);
  return cns_seterr(h, CNS_EBUSY, "another 'cnsearch watch' (pid %ld) is "
                    "already keeping '%s' fresh; 'kill %ld' stops it",
                    pid, h->index_path, pid);
}

/* The lock, and our pid in it; a watcher without idle_s takes over from
** a background one. */
static int take_lock(cns *h, long idle_s, int *fd) {
  char *p = side_path(h, "watch");
  *fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  int rc = CNS_OK, background;
  if (*fd < 0) {
    rc = cns_seterr(h, CNS_EIO, "cannot create '%s': %s", p, strerror(errno));
  } else if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
    long pid = lock_pid(*fd, &background);
    if (idle_s || !background || !take_over(*fd, pid)) rc = busy(h, pid);
  }
  if (!rc) record_state(*fd, idle_s, NULL);
  free(p);
  return rc;
}

/* The folder it could not watch, as an error. */
static int watch_error(watcher *w) {
  if (w->err == ENOSPC)
    return cns_seterr(w->h, CNS_EIO, "cannot watch '%s': inotify's watch "
                      "limit is reached; raise fs.inotify.max_user_watches",
                      w->err_path);
  return cns_seterr(w->h, CNS_EIO, "cannot watch '%s': %s", w->err_path,
                    strerror(w->err));
}

/* inotify, INDEX-sync/ and the note folders. */
static int watcher_start(cns *h, long idle_s, watcher *w) {
  memset(w, 0, sizeof *w);
  w->h = h;
  w->sync_wd = -1;
  w->lfd = -1;
  w->idle_ms = idle_s * 1000;
  w->last = now_ms();
  w->sync_dir = side_path(h, "sync");
  w->in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (w->in < 0)
    return cns_seterr(h, CNS_EIO, "cannot watch '%s': %s", h->root,
                      strerror(errno));
  if (mkdir(w->sync_dir, 0700) != 0 && errno != EEXIST)
    return cns_seterr(h, CNS_EIO, "cannot create '%s': %s", w->sync_dir,
                      strerror(errno));
  w->sync_wd = inotify_add_watch(w->in, w->sync_dir, IN_CREATE | IN_ONLYDIR);
  if (w->sync_wd < 0)
    return cns_seterr(h, CNS_EIO, "cannot watch '%s': %s", w->sync_dir,
                      strerror(errno));
  add_tree(w, "");
  return w->err ? watch_error(w) : CNS_OK;
}

static void watcher_stop(watcher *w) {
  map_free(&w->m);
  free(w->err_path);
  if (w->in >= 0) close(w->in);
  free(w->sync_dir);
}

/* One update for a burst, then the answers to the searches it closes. */
static int apply_burst(watcher *w, burst *b, cns_watch_fn report,
                       void *arg) {
  cns_update_stats st = {0};
  int rc = CNS_OK;
  if (b->all) {
    list_cookies(w, &b->cookies); /* before the walk: see list_cookies() */
    rc = cns_update(w->h, 0, &st, NULL, NULL);
  } else if (b->paths.n) {
    rc = cns_update_paths(w->h, (const char *const *)b->paths.v, b->paths.n,
                          &st);
  }
  if (!rc && report && (b->all || b->paths.n)) report(arg, &st);
  answer(w, &b->cookies, rc, &st);
  return rc;
}

/* The index file the watcher keeps, once it is in place: a new one is
** put there by the first update, or here if the folder has no notes. */
static int index_file(watcher *w) {
  struct stat sb;
  int rc = db_publish(w->h);
  if (!rc && stat(w->h->index_path, &sb) != 0)
    rc = cns_seterr(w->h, CNS_EIO, "cannot read index '%s': %s",
                    w->h->index_path, strerror(errno));
  if (!rc) {
    w->dev = sb.st_dev;
    w->ino = sb.st_ino;
  }
  return rc;
}

/* Time to end: no search asked for idle_ms, or the index file is gone
** or replaced (a new one is another watcher's to keep). */
static int done(const watcher *w) {
  struct stat sb;
  if (w->idle_ms && now_ms() - w->last >= w->idle_ms) return 1;
  return stat(w->h->index_path, &sb) != 0 || sb.st_dev != w->dev ||
         sb.st_ino != w->ino;
}

/* ---------------------------------------------------- answering searches */

static int has_name(const names *l, const char *name) {
  for (size_t i = 0; i < l->n; i++)
    if (strcmp(l->v[i], name) == 0) return 1;
  return 0;
}

/* Wait up to ms for an event (ps[0]) or a search on the socket (ps[1]):
** poll()'s result. */
static int wait_for(const watcher *w, struct pollfd ps[2], int ms) {
  ps[0] = (struct pollfd){w->in, POLLIN, 0};
  ps[1] = (struct pollfd){w->lfd, POLLIN, 0};
  return poll(ps, w->lfd >= 0 ? 2 : 1, ms);
}

/* Wait DEBOUNCE_MS for more events: 1 when some came, 0 when none did
** or a search is waiting on the socket (a search waiting in a cookie
** ends the debounce too, in the caller). */
static int debounce(const watcher *w) {
  struct pollfd ps[2];
  int r = wait_for(w, ps, DEBOUNCE_MS);
  return r > 0 && !(ps[1].revents & POLLIN) && (ps[0].revents & POLLIN);
}

/* Gather a burst into b.  Without `ours`, the loop's way: until
** DEBOUNCE_MS pass without events or a search is waiting (in a cookie or
** on the socket).  With `ours`, a cookie a served search made: until its
** event arrives, which inotify queues after every change made before it,
** or SYNC_WAIT_MS pass.  1 when the burst may be applied: without
** `ours`, always; with it, once its event came or a full update is due
** anyway (a full walk answers it too, list_cookies()). */
static int gather(const watcher *w, burst *b, const char *ours) {
  long long end = now_ms() + SYNC_WAIT_MS;
  drain(w, b); /* the descriptor does not block: nothing read is no wait */
  if (!ours) {
    while (!b->cookies.n && debounce(w)) drain(w, b);
    return 1;
  }
  while (!b->all && !has_name(&b->cookies, ours) && now_ms() < end &&
         !w->h->interrupted) {
    struct pollfd pf = {w->in, POLLIN, 0};
    if (poll(&pf, 1, SYNC_POLL_MS) > 0) drain(w, b);
  }
  return b->all || has_name(&b->cookies, ours);
}

/* Gather one burst and apply it, then answer the searches it closes: the
** loop's work for each batch of events, and a served fresh search's
** (`ours`, catch_up()), so that what "fresh" means is decided here only.
** A burst that cannot be applied -- the index locked past SQLite's busy
** timeout, or `ours` never seen -- tells its searches to walk themselves
** and makes a full update due a second later (w->retry_at), since the
** changes it named are now known to no event: CNS_EBUSY.  A folder that
** cannot be watched is an error that ends the watcher. */
static int run_burst(watcher *w, const char *ours, cns_watch_fn report,
                     void *arg) {
  burst b = {.all = w->retry_at != 0};
  int rc, seen = gather(w, &b, ours);
  if (b.cookies.n) w->last = now_ms();
  if (b.rewatch) add_tree(w, "");
  if (w->err) {
    answer(w, &b.cookies, 1, NULL);
    rc = watch_error(w);
  } else if (!seen) {
    answer(w, &b.cookies, 1, NULL);
    rc = CNS_EBUSY;
  } else {
    rc = apply_burst(w, &b, report, arg); /* answers `ours` too */
  }
  burst_free(&b);
  w->retry_at = rc == CNS_EBUSY ? now_ms() + 1000 : 0;
  return rc;
}

/* Apply every change made before now, the way a search's cookie asks
** (cns_watcher_sync()), with a cookie of our own.  CNS_OK when the index
** is fresh; CNS_EBUSY when it may not be (the search then runs itself). */
static int catch_up(watcher *w, cns_watch_fn report, void *arg) {
  char name[64];
  snprintf(name, sizeof name, "w%ld-%u", (long)getpid(), w->seq++);
  char *path = cns_xasprintf("%s/%s", w->sync_dir, name);
  int rc = CNS_EBUSY;
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    close(fd);
    rc = run_burst(w, name, report, arg);
  }
  unlink(path); /* answered and gone, or never seen */
  free(path);
  return rc;
}

/* A search whose asker has gone (Ctrl-C, an editor that moved on to the
** next query) is cut short: a long one, a regex that has to read every
** note, would otherwise keep the watcher from the next search and from
** the notes' changes for as long as it ran, with nobody to read the
** answer.  SQLite calls asker_gone() every PROGRESS_STEPS steps of its
** virtual machine while the search runs (a few microseconds apart), and
** every ASKER_POLL_MS it asks the connection whether its other end is
** still open; a nonzero return makes SQLite stop the statement.  An
** asker that has gone reads no answer, so the search's own error is
** dropped with it. */
#define PROGRESS_STEPS 1000
#define ASKER_POLL_MS 10

typedef struct asker {
  int c;          /* the connection */
  long long next; /* when to look next (now_ms()) */
  int gone;
} asker;

static int asker_gone(void *arg) {
  asker *a = arg;
  long long t = now_ms();
  if (!a->gone && t >= a->next) {
    a->next = t + ASKER_POLL_MS;
    a->gone = srv_gone(a->c);
  }
  return a->gone;
}

/* Run the search on h with a watch on its asker; -1 when it was cut
** short, by a signal to the watcher or by the asker's leaving. */
static int run_served(watcher *w, int c, const buf *req, FILE *out,
                      buf *err) {
  asker a = {c, now_ms() + ASKER_POLL_MS, 0};
  sqlite3_progress_handler(w->h->db, PROGRESS_STEPS, asker_gone, &a);
  int code = w->serve(w->serve_arg, w->h, req->p ? req->p : "", req->len,
                      out, err);
  sqlite3_progress_handler(w->h->db, 0, NULL, NULL);
  return w->h->interrupted || a.gone ? -1 : code;
}

/* Answer one search that asks on the socket.  Only a folder that cannot
** be watched is an error that ends the watcher; after a failed catch-up
** (run_burst() made a full update due) the search runs itself. */
static int serve_one(watcher *w, cns_watch_fn report, void *arg) {
  buf req = BUF_INIT, err = BUF_INIT;
  int fresh, code = -1, rc = CNS_OK;
  int c = srv_accept(w->lfd, &req, &fresh);
  if (c == -2) { /* the socket itself fails: searches run themselves */
    srv_unlisten(w->lfd, w->h->index_path);
    w->lfd = -1;
  }
  if (c < 0) {
    buf_free(&req);
    return CNS_OK;
  }
  w->last = now_ms();
  if (fresh) rc = catch_up(w, report, arg);
  FILE *out = !rc && !db_config_changed(w->h) ? srv_output() : NULL;
  if (out) {
    code = run_served(w, c, &req, out, &err); /* -1: let it run itself */
    if (fflush(out) != 0 || ferror(out)) code = -1; /* memory is short */
  }
  srv_reply(c, code, out, &err);
  if (out) fclose(out);
  buf_free(&req);
  buf_free(&err);
  return rc == CNS_EBUSY ? CNS_OK : rc;
}

/* Searches run here from now on, one after another: they keep the page
** cache they warm (h->resident, search.c), and read the index through a
** memory map, which spares each page read a pread() and a copy (a served
** search at 45 MB: 6.9 -> 6.3 ms median over bench/run's mix, side by
** side).  A map SQLite cannot make is no error: the searches then read as
** before. */
static void go_resident(cns *h) {
  h->resident = 1;
  int rc = sqlite3_exec(h->db, "PRAGMA mmap_size=1073741824", NULL, NULL,
                        NULL);
  (void)rc; /* a failure leaves searches reading with pread(): see above */
}

/* Checkpoints off the answer's path.  SQLite copies its WAL back into the
** index file by itself, in the commit that takes the WAL past 1,000
** pages: it copies them and waits for an fdatasync() of each file before
** the commit returns.  At 45 MB that is one update of the largest note in
** five or so, and in one strace of it the two fdatasync()s alone took
** 16.6 and 3.2 ms (that update: 87 ms, most others 35-40), all of it
** time a search waiting for the update waits too.  The watcher commits
** often and is the one writer that stays, so it takes checkpoints out of
** its commits (a WAL hook of its own replaces SQLite's, which is what
** runs them) and makes them once the searches the update was for have
** their answers (watch_loop()).  A crash in between loses nothing: the
** WAL is part of the index until it is copied, and SQLite reads it on
** open. */
static int wal_grew(void *arg, sqlite3 *db, const char *name, int pages) {
  (void)db;
  (void)name;
  ((watcher *)arg)->wal_pages = pages;
  ((watcher *)arg)->merge_due = 1;
  return SQLITE_OK;
}

static void checkpoint(watcher *w) {
  int rc = sqlite3_wal_checkpoint_v2(w->h->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
                                     NULL, NULL);
  (void)rc; /* SQLITE_BUSY (another writer): the next commit asks again */
  w->wal_pages = 0;
}

/* Is an event or a search waiting? */
static int waiting(const watcher *w) {
  struct pollfd ps[2];
  return wait_for(w, ps, 0) > 0;
}

/* FTS5's merge work after the answers, as the checkpoint: left to the
** updates, it lands in the commits searches wait for (store_merge()),
** so while the watcher runs the commits merge nothing at all
** (store_automerge()).  It stops, still due, as soon as an event or a
** search waits, and goes on after it. */
static void merge(watcher *w) {
  int r;
  while ((r = store_merge(w->h->db, MERGE_PAGES)) > 0) {
    if (waiting(w) || w->h->interrupted) return;
    if (w->wal_pages >= CHECKPOINT_PAGES) checkpoint(w); /* keep it short */
    if (waiting(w)) return;
  }
  w->merge_due = 0; /* none left, or not now: the next commit says again */
}

/* Wait for events and searches and deal with them, until interrupted,
** done() or an error.  An index that another process keeps locked past
** SQLite's busy timeout (a rebuild of a large folder) is no reason to
** stop: the burst's searches are told to walk themselves, and a full
** update is tried again a second later (w->retry_at), which finds whatever
** the burst named.  Searches asking on the socket in the meantime do not
** put that off. */
static int watch_loop(watcher *w, cns_watch_fn report, void *arg) {
  int rc = CNS_OK;
  while (!rc && !w->h->interrupted) {
    struct pollfd ps[2];
    if (w->merge_due && !waiting(w)) merge(w); /* all answered */
    if (w->wal_pages >= CHECKPOINT_PAGES && !waiting(w)) checkpoint(w);
    int r = wait_for(w, ps, 1000);
    if (done(w)) break; /* a search asking just now walks by itself */
    int events = r > 0 && (ps[0].revents & POLLIN);
    if (r > 0 && w->lfd >= 0 && (ps[1].revents & POLLIN))
      rc = serve_one(w, report, arg);
    if (rc || (!events && !(w->retry_at && now_ms() >= w->retry_at)))
      continue; /* an error, a signal, or nothing to do */
    rc = run_burst(w, NULL, report, arg);
    if (rc == CNS_EBUSY) rc = CNS_OK; /* tried again at w->retry_at */
  }
  return w->h->interrupted ? CNS_OK : rc;
}

int cns_watch(cns *h, long idle_s, cns_watch_fn report, void *arg) {
  return cns_watch_serving(h, idle_s, report, NULL, arg);
}

int cns_watch_serving(cns *h, long idle_s, cns_watch_fn report,
                      cns_serve_fn serve, void *arg) {
  int lock, rc = take_lock(h, idle_s, &lock);
  watcher w = {.in = -1, .lfd = -1};
  if (!rc) rc = watcher_start(h, idle_s, &w);
  if (!rc) {
    burst first = {.all = 1}; /* answers cookies left before we watched */
    rc = apply_burst(&w, &first, report, arg);
    burst_free(&first);
  }
  if (!rc) rc = index_file(&w);
  if (!rc) { /* checkpoint() and merge(), above */
    sqlite3_wal_hook(h->db, wal_grew, &w);
    w.merge_due = 1; /* what earlier updates left under way */
    h->watching = 1;
    /* locked by another writer: commits merge as before, no more */
    (void)store_automerge(h->db, 0);
  }
  if (!rc && serve) { /* no socket is no error: searches run themselves */
    w.serve = serve;
    w.serve_arg = arg;
    w.lfd = srv_listen(h->index_path);
    go_resident(h);
  }
  if (!rc) rc = watch_loop(&w, report, arg);
  if (h->db) { /* the upkeep is the commits' again */
    /* SQLite's own hook: ours points into w */
    int ac = sqlite3_wal_autocheckpoint(h->db, CHECKPOINT_PAGES);
    (void)ac; /* SQLITE_OK on an open connection, which h->db is */
    if (h->watching) /* else the next update's (index.c) */
      (void)store_automerge(h->db, 1);
    h->watching = 0;
  }
  srv_unlisten(w.lfd, h->index_path);
  if (rc && rc != CNS_EBUSY && lock >= 0)
    record_state(lock, 0, buf_str(&h->err));
  if (w.h) watcher_stop(&w);
  if (lock >= 0) close(lock);
  return rc;
}

/* The watcher's reply in our cookie: 1 and *st for "ok". */
static int read_reply(int fd, cns_update_stats *st) {
  char reply[160];
  ssize_t n = pread(fd, reply, sizeof reply - 1, 0);
  if (n <= 0) return 0;
  reply[n] = 0;
  cns_update_stats s = {0};
  if (sscanf(reply, "ok %ld %ld %ld %ld %ld", &s.scanned, &s.added,
             &s.changed, &s.removed, &s.skipped) != 5)
    return 0;
  if (st) *st = s;
  return 1;
}

/* Wait until the cookie `name` (open as fd) is answered: 1 for "ok". */
static int await_reply(cns *h, int in, int fd, const char *name,
                       cns_update_stats *st) {
  char ev[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
  long long end = now_ms() + SYNC_WAIT_MS;
  while (now_ms() < end && !h->interrupted) {
    struct pollfd pf = {in, POLLIN, 0};
    int r = poll(&pf, 1, SYNC_POLL_MS);
    if (r < 0 && errno != EINTR) return 0;
    if (r <= 0) {
      if (!cns_watcher_running(h)) return 0;
      continue;
    }
    ssize_t n = read(in, ev, sizeof ev);
    for (char *p = ev; n > 0 && p < ev + n;) {
      struct inotify_event *e = (struct inotify_event *)p;
      if (e->mask & IN_Q_OVERFLOW) return 0;
      if (e->len && strcmp(e->name, name) == 0) return read_reply(fd, st);
      p += sizeof *e + e->len;
    }
  }
  return 0;
}

int cns_watcher_sync(cns *h, cns_update_stats *st) {
  if (!cns_watcher_running(h)) return 0;
  static unsigned seq;
  char name[64];
  snprintf(name, sizeof name, "c%ld-%u", (long)getpid(), seq++);
  char *dir = side_path(h, "sync"), *path = cns_xasprintf("%s/%s", dir, name);
  int in = inotify_init1(IN_CLOEXEC), fd = -1, ok = 0;
  if (in >= 0 && inotify_add_watch(in, dir, IN_DELETE | IN_ONLYDIR) >= 0 &&
      (fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) >= 0) {
    ok = await_reply(h, in, fd, name, st);
    if (!ok) unlink(path);
    close(fd);
  }
  if (in >= 0) close(in);
  free(path);
  free(dir);
  return ok;
}
