/*
** watch.c -- keep the index fresh as notes change (inotify).
**
** cns_watch() takes an exclusive flock() on ROOT/.cnsearch/watch.lock,
** brings the index up to date, and then sleeps in inotify until a note
** folder changes.  Each burst of events (collected for DEBOUNCE_MS, so
** an editor's write-rename-chmod dance is one update) names the files
** and folders that changed, and only those are looked at again
** (cns_update_paths(), which judges them by the walk's own rules): one
** saved note costs a few milliseconds however many notes there are.
** What inotify cannot say exactly -- a full event queue (IN_Q_OVERFLOW),
** a changed .gitignore or .cnsearchignore, more than MAX_PATHS names in
** one burst -- costs one full walk instead.  New folders get watches as
** they appear.
**
** While the lock is held, cns_watcher_running() is true, and searches
** skip their own freshness walk: a default search then costs what a
** --no-update search costs.  The lock dies with the watcher, so a
** crashed watcher never leaves searches trusting a stale index.
*/
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>
#include "cnsint.h"

#define DEBOUNCE_MS 40
#define MAX_PATHS 256
#define WATCH_MASK (IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | \
                    IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF | \
                    IN_ONLYDIR)

/* The folder (root-relative) behind each watch descriptor. */
typedef struct wdmap {
  int *wd;
  char **rel;
  size_t n;
} wdmap;

/* What one burst of events asks for. */
typedef struct burst {
  char **paths;      /* changed files and folders, root-relative */
  size_t n;
  int all;           /* a full update instead */
  int rewatch;       /* a folder appeared: watch it */
} burst;

static char *lock_path(const cns *h) {
  return cns_xasprintf("%s/.cnsearch/watch.lock", h->root);
}

int cns_watcher_running(cns *h) {
  char *p = lock_path(h);
  int fd = open(p, O_RDONLY | O_CLOEXEC), held = 0;
  free(p);
  if (fd < 0) return 0;
  if (flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK) held = 1;
  close(fd);
  return held;
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

/* Watch dir (relative to the root) and every visible folder below it. */
static void add_tree(int in, wdmap *m, const char *root, const char *rel) {
  char *path = rel[0] ? cns_xasprintf("%s/%s", root, rel) : cns_xstrdup(root);
  int wd = inotify_add_watch(in, path, WATCH_MASK);
  if (wd >= 0) map_set(m, wd, rel);
  DIR *d = opendir(path);
  struct dirent *de;
  while (d && (de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.' || de->d_type != DT_DIR) continue;
    char *sub = rel[0] ? cns_xasprintf("%s/%s", rel, de->d_name)
                       : cns_xstrdup(de->d_name);
    add_tree(in, m, root, sub);
    free(sub);
  }
  if (d) closedir(d);
  free(path);
}

static void burst_add(burst *b, const char *dir, const char *name) {
  if (b->n == MAX_PATHS) {
    b->all = 1;
    return;
  }
  b->paths = cns_xrealloc(b->paths, (b->n + 1) * sizeof *b->paths);
  b->paths[b->n++] = dir[0] ? cns_xasprintf("%s/%s", dir, name)
                            : cns_xstrdup(name);
}

static void burst_free(burst *b) {
  for (size_t i = 0; i < b->n; i++) free(b->paths[i]);
  free(b->paths);
  memset(b, 0, sizeof *b);
}

/* What one event asks for. */
static void note_event(const wdmap *m, const struct inotify_event *e,
                       burst *b) {
  if (e->mask & IN_Q_OVERFLOW) {
    b->all = b->rewatch = 1;
    return;
  }
  if ((e->mask & IN_ISDIR) && (e->mask & (IN_CREATE | IN_MOVED_TO)))
    b->rewatch = 1;
  if (!e->len) return; /* about the watched folder itself: its parent says */
  const char *dir = map_get(m, e->wd);
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
static void drain(int in, const wdmap *m, burst *b) {
  char ev[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
  ssize_t n = read(in, ev, sizeof ev);
  for (char *p = ev; n > 0 && p < ev + n;) {
    struct inotify_event *e = (struct inotify_event *)p;
    note_event(m, e, b);
    p += sizeof *e + e->len;
  }
}

static int take_lock(cns *h, int *fd) {
  char *dir = cns_xasprintf("%s/.cnsearch", h->root), *p = lock_path(h);
  mkdir(dir, 0777);
  *fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  int rc = CNS_OK;
  if (*fd < 0)
    rc = cns_seterr(h, CNS_EIO, "cannot create '%s': %s", p, strerror(errno));
  else if (flock(*fd, LOCK_EX | LOCK_NB) != 0)
    rc = cns_seterr(h, CNS_EBUSY, "another 'cnsearch watch' is already "
                                  "watching '%s'", h->root);
  free(dir);
  free(p);
  return rc;
}

static int apply_burst(cns *h, const burst *b, cns_watch_fn report,
                       void *arg) {
  cns_update_stats st;
  int rc = b->all ? cns_update(h, 0, &st, NULL, NULL)
                  : cns_update_paths(h, (const char *const *)b->paths, b->n,
                                     &st);
  if (!rc && report) report(arg, &st);
  return rc;
}

static int watch_loop(cns *h, int in, wdmap *m, cns_watch_fn report,
                      void *arg) {
  int rc = CNS_OK;
  while (!rc && !h->interrupted) {
    struct pollfd pf = {in, POLLIN, 0};
    int r = poll(&pf, 1, 1000);
    if (r <= 0) continue; /* timeout or a signal: look at interrupted */
    burst b = {0};
    drain(in, m, &b);
    while (poll(&pf, 1, DEBOUNCE_MS) > 0) drain(in, m, &b);
    if (b.rewatch) add_tree(in, m, h->root, "");
    if (b.all || b.n) rc = apply_burst(h, &b, report, arg);
    burst_free(&b);
  }
  return h->interrupted ? CNS_OK : rc;
}

int cns_watch(cns *h, cns_watch_fn report, void *arg) {
  int lock, rc = take_lock(h, &lock);
  if (rc) {
    if (lock >= 0) close(lock);
    return rc;
  }
  int in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (in < 0) {
    close(lock);
    return cns_seterr(h, CNS_EIO, "cannot watch '%s': %s", h->root,
                      strerror(errno));
  }
  wdmap m = {0};
  add_tree(in, &m, h->root, "");
  cns_update_stats st;
  rc = cns_update(h, 0, &st, NULL, NULL);
  if (!rc && report) report(arg, &st);
  if (!rc) rc = watch_loop(h, in, &m, report, arg);
  map_free(&m);
  close(in);
  close(lock);
  return rc;
}
