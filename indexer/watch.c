/*
** watch.c -- keep the index fresh as notes change (inotify).
**
** cns_watch() takes an exclusive flock() on ROOT/.cnsearch/watch.lock,
** brings the index up to date, and then sleeps in inotify until a note
** folder changes.  Each burst of events (collected for DEBOUNCE_MS, so
** an editor's write-rename-chmod dance is one update) runs cns_update():
** the same walk-and-compare a search does, so a watcher can never index
** anything differently from a search.  New folders get watches as they
** appear; a full inotify queue (IN_Q_OVERFLOW) just means one more
** update.
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
#define WATCH_MASK (IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | \
                    IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF | \
                    IN_ONLYDIR)

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

/* Watch dir (relative to the root) and every visible folder below it. */
static void add_tree(int in, const char *root, const char *rel) {
  char *path = rel[0] ? cns_xasprintf("%s/%s", root, rel) : cns_xstrdup(root);
  inotify_add_watch(in, path, WATCH_MASK);
  DIR *d = opendir(path);
  struct dirent *de;
  while (d && (de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.' || de->d_type != DT_DIR) continue;
    char *sub = rel[0] ? cns_xasprintf("%s/%s", rel, de->d_name)
                       : cns_xstrdup(de->d_name);
    add_tree(in, root, sub);
    free(sub);
  }
  if (d) closedir(d);
  free(path);
}

/* Read what inotify has; returns 1 if a note folder changed. */
static int drain(int in, int *rewatch) {
  char ev[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
  ssize_t n = read(in, ev, sizeof ev);
  int changed = 0;
  for (char *p = ev; n > 0 && p < ev + n;) {
    struct inotify_event *e = (struct inotify_event *)p;
    if (e->mask & IN_Q_OVERFLOW) changed = *rewatch = 1;
    else if (!(e->len && e->name[0] == '.')) changed = 1; /* hidden: ignore */
    if ((e->mask & IN_ISDIR) && (e->mask & (IN_CREATE | IN_MOVED_TO)))
      *rewatch = 1;
    p += sizeof *e + e->len;
  }
  return changed;
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

static int watch_loop(cns *h, int in, cns_watch_fn report, void *arg) {
  int rc = CNS_OK;
  while (!rc && !h->interrupted) {
    struct pollfd pf = {in, POLLIN, 0};
    int r = poll(&pf, 1, 1000);
    if (r <= 0) continue; /* timeout or a signal: look at interrupted */
    int rewatch = 0, changed = drain(in, &rewatch);
    while (poll(&pf, 1, DEBOUNCE_MS) > 0) changed |= drain(in, &rewatch);
    if (rewatch) add_tree(in, h->root, "");
    if (!changed) continue;
    cns_update_stats st;
    rc = cns_update(h, 0, &st, NULL, NULL);
    if (!rc && report) report(arg, &st);
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
  add_tree(in, h->root, "");
  cns_update_stats st;
  rc = cns_update(h, 0, &st, NULL, NULL);
  if (!rc && report) report(arg, &st);
  if (!rc) rc = watch_loop(h, in, report, arg);
  close(in);
  close(lock);
  return rc;
}
