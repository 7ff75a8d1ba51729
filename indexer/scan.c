/*
** scan.c -- walk the notes root and list the note files.
**
** The walk is the fixed cost of every search (a search first checks the
** index is fresh), so it does the least that is correct.  Each folder is
** read once; readdir() gives each entry's type, so only note files are
** stated (for their size and mtime), and each stat names the file
** relative to its open folder, which spares the kernel a lookup of every
** folder on the path.  Folders go on a queue that two workers share, so
** both cores read folders and stat files; a folder of many notes has its
** stats split between two threads too.  Hidden entries (".git",
** ".cnsearch", dot files) are skipped, as ripgrep does, and symbolic
** links are not followed, so a link can neither loop nor lead out of the
** root.  .gitignore and .cnsearchignore files, and the config's ignore
** patterns, leave files and whole folders out (ignore.c).
**
** The result is a list of (path relative to the root, size, mtime in ns),
** sorted by path, for index.c to compare with what the index holds.
** scan.c never opens a note's contents.
**
** scan_under() lists one file or folder below the root by the very same
** rules: it descends from the root one folder at a time, loading each
** folder's ignore files on the way, so a note saved in an editor (or
** seen by `cnsearch watch`) is judged exactly as the full walk would
** judge it, at the cost of its depth instead of the whole tree.
*/
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cnsint.h"

#define MAX_DEPTH 128
#define MAX_IGNORE_FILE (1 << 20)
/* From this many note files in one folder on, a second thread stats half. */
#define STAT_THREAD_MIN 2048
/* Folders waiting on the queue hold an open fd each; past this many, a
** worker walks a subfolder itself instead of queueing it. */
#define QUEUE_MAX 128
#define NOT_STATED (-1)
#define GONE (-2)

/* The ignore rule sets in force in a folder: its own files' first, then
** its parents', up to the config's at the root.  Nodes are shared by the
** folders below and freed when the walk ends. */
typedef struct rules {
  ign_set *set;
  const struct rules *up;
  struct rules *made; /* the list of every node, for freeing */
} rules;

/* A folder to read: open as fd (the job owns it), at path rel. */
typedef struct dir_job {
  int fd;
  char *rel;
  const rules *r;
  int depth;
} dir_job;

/* What the workers share. */
typedef struct pool {
  const cns_config *cfg;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  dir_job *q;        /* a stack: the newest folder first keeps fds few */
  size_t nq, cap;
  size_t busy;       /* jobs taken and not finished */
  rules *made;       /* every rules node, guarded by mu */
} pool;

/* One worker's findings, merged when the walk ends. */
typedef struct worker {
  pool *p;
  scan_list out;
  long skipped;
} worker;

int scan_is_note_name(const cns_config *cfg, const char *name) {
  const char *dot = strrchr(name, '.');
  if (!dot || dot == name) return 0;
  for (size_t i = 0; i < cfg->nexts; i++)
    if (strcasecmp(dot + 1, cfg->exts[i]) == 0) return 1;
  return 0;
}

static void set_state(scan_entry *e, const struct stat *st) {
  e->size = st->st_size;
  e->mtime = (long long)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
}

static void list_push(scan_list *l, const scan_entry *e) {
  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 256;
    l->v = cns_xrealloc(l->v, l->cap * sizeof *l->v);
  }
  l->v[l->n++] = *e;
}

/* Add path, to be stated later. */
static void add_entry(scan_list *l, const char *path) {
  scan_entry e = {cns_xstrdup(path), NOT_STATED, 0};
  list_push(l, &e);
}

static int ignored(const rules *r, const char *path, int is_dir) {
  for (; r; r = r->up) {
    int m = ign_match(r->set, path, is_dir);
    if (m) return m > 0;
  }
  return 0;
}

static const rules *push_rules(pool *p, const rules *up, ign_set *s) {
  rules *r = cns_xmalloc(sizeof *r);
  r->set = s;
  r->up = up;
  pthread_mutex_lock(&p->mu);
  r->made = p->made;
  p->made = r;
  pthread_mutex_unlock(&p->mu);
  return r;
}

/* The rules of the ignore file `name` in the folder dfd (at rel) on top
** of r, or r itself when there is no such file. */
static const rules *load_ignore_file(pool *p, const rules *r, int dfd,
                                     const char *rel, const char *name) {
  int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return r;
  buf b = BUF_INIT;
  char chunk[8192];
  ssize_t n;
  while ((n = read(fd, chunk, sizeof chunk)) > 0 && b.len < MAX_IGNORE_FILE)
    buf_add(&b, chunk, (size_t)n);
  close(fd);
  r = push_rules(p, r, ign_parse(rel, buf_str(&b), b.len));
  buf_free(&b);
  return r;
}

static const rules *load_ignores(pool *p, const rules *r, int dfd,
                                 const char *rel) {
  r = load_ignore_file(p, r, dfd, rel, ".gitignore");
  return load_ignore_file(p, r, dfd, rel, ".cnsearchignore");
}

/* ---- stats ----------------------------------------------------------- */

typedef struct stat_job {
  int dfd;
  size_t skip;       /* bytes of each path before the name in dfd */
  scan_entry *v;
  size_t n;
} stat_job;

/* Stat each entry not stated yet; one that is gone or no longer a
** regular file is marked GONE. */
static void *stat_range(void *arg) {
  stat_job *j = arg;
  struct stat st;
  for (size_t i = 0; i < j->n; i++) {
    scan_entry *e = &j->v[i];
    if (e->size != NOT_STATED) continue;
    if (fstatat(j->dfd, e->path + j->skip, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISREG(st.st_mode))
      set_state(e, &st);
    else
      e->size = GONE;
  }
  return NULL;
}

/* Stat v[0..n), names relative to dfd; the second half on a thread of
** its own when there are many. */
static void stat_folder(int dfd, size_t skip, scan_entry *v, size_t n) {
  size_t half = n >= STAT_THREAD_MIN ? n / 2 : n;
  stat_job a = {dfd, skip, v, half};
  stat_job b = {dfd, skip, v + half, n - half};
  pthread_t th;
  int threaded = b.n && cns_spawn(&th, stat_range, &b);
  stat_range(&a);
  if (threaded) pthread_join(th, NULL);
  else stat_range(&b);
}

/* Drop the entries marked GONE from l->v[from..], counting them. */
static void drop_gone(scan_list *l, size_t from, long *skipped) {
  size_t k = from;
  for (size_t i = from; i < l->n; i++) {
    if (l->v[i].size == GONE) {
      free(l->v[i].path);
      (*skipped)++;
    } else {
      l->v[k++] = l->v[i];
    }
  }
  l->n = k;
}

/* ---- the walk -------------------------------------------------------- */

static void walk(worker *w, dir_job *j);

/* Hand the subfolder job to whichever worker is free, or walk it here
** when the queue is full. */
static void submit(worker *w, dir_job *j) {
  pool *p = w->p;
  pthread_mutex_lock(&p->mu);
  int queued = p->nq < QUEUE_MAX;
  if (queued) {
    if (p->nq == p->cap) {
      p->cap = p->cap ? p->cap * 2 : 16;
      p->q = cns_xrealloc(p->q, p->cap * sizeof *p->q);
    }
    p->q[p->nq++] = *j;
    pthread_cond_signal(&p->cv);
  }
  pthread_mutex_unlock(&p->mu);
  if (!queued) walk(w, j);
}

/* The subfolder `name` (at path) of the folder j is reading. */
static void visit_dir(worker *w, const dir_job *j, const char *name,
                      const char *path) {
  if (ignored(j->r, path, 1)) return;
  int sub =
      openat(j->fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (sub < 0 || j->depth >= MAX_DEPTH) {
    w->skipped++;
    if (sub >= 0) close(sub);
    return;
  }
  dir_job s = {sub, cns_xstrdup(path), j->r, j->depth + 1};
  submit(w, &s);
}

/* An entry whose type readdir() left open: learn it, then treat it as
** walk() would have. */
static void visit_unknown(worker *w, const dir_job *j, const char *name,
                          const char *path) {
  struct stat st;
  if (fstatat(j->fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    w->skipped++;
  } else if (S_ISDIR(st.st_mode)) {
    visit_dir(w, j, name, path);
  } else if (S_ISREG(st.st_mode) && scan_is_note_name(w->p->cfg, name) &&
             !ignored(j->r, path, 0)) {
    add_entry(&w->out, path);
    set_state(&w->out.v[w->out.n - 1], &st);
  }
}

/* Read the folder of job j: list its notes, stat them, and submit its
** subfolders.  Takes ownership of j's fd and path. */
static void walk(worker *w, dir_job *j) {
  DIR *d = fdopendir(j->fd);
  if (!d) {
    close(j->fd);
    free(j->rel);
    w->skipped++;
    return;
  }
  j->r = load_ignores(w->p, j->r, j->fd, j->rel);
  size_t from = w->out.n, skip = j->rel[0] ? strlen(j->rel) + 1 : 0;
  buf path = BUF_INIT;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    const char *name = de->d_name;
    if (name[0] == '.') continue; /* ".", "..", hidden */
    unsigned char t = de->d_type;
    if (t != DT_REG && t != DT_DIR && t != DT_UNKNOWN) continue;
    if (t == DT_REG && !scan_is_note_name(w->p->cfg, name)) continue;
    /* links, devices, sockets: never notes, never followed */
    path.len = 0;
    if (skip) {
      buf_adds(&path, j->rel);
      buf_addc(&path, '/');
    }
    buf_adds(&path, name);
    if (t == DT_DIR) visit_dir(w, j, name, path.p);
    else if (t == DT_UNKNOWN) visit_unknown(w, j, name, path.p);
    else if (!ignored(j->r, path.p, 0)) add_entry(&w->out, path.p);
  }
  buf_free(&path);
  stat_folder(j->fd, skip, w->out.v + from, w->out.n - from);
  drop_gone(&w->out, from, &w->skipped);
  closedir(d);
  free(j->rel);
}

/* A worker's loop: take folders off the queue until none is left and
** none is being read (a folder being read may still submit more). */
static void work(worker *w) {
  pool *p = w->p;
  pthread_mutex_lock(&p->mu);
  for (;;) {
    while (p->nq == 0 && p->busy > 0) pthread_cond_wait(&p->cv, &p->mu);
    if (p->nq == 0) break;
    dir_job j = p->q[--p->nq];
    p->busy++;
    pthread_mutex_unlock(&p->mu);
    walk(w, &j);
    pthread_mutex_lock(&p->mu);
    if (--p->busy == 0 && p->nq == 0) pthread_cond_broadcast(&p->cv);
  }
  pthread_mutex_unlock(&p->mu);
}

/* The config's ignore patterns, as one rule set at the root. */
static ign_set *config_rules(const cns_config *cfg) {
  buf b = BUF_INIT;
  for (size_t i = 0; i < cfg->nignores; i++) {
    buf_adds(&b, cfg->ignores[i]);
    buf_addc(&b, '\n');
  }
  ign_set *s = ign_parse("", buf_str(&b), b.len);
  buf_free(&b);
  return s;
}

static void pool_init(pool *p, const cns_config *cfg) {
  memset(p, 0, sizeof *p);
  p->cfg = cfg;
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->cv, NULL);
}

static void pool_free(pool *p) {
  while (p->made) {
    rules *r = p->made;
    p->made = r->made;
    ign_free(r->set);
    free(r);
  }
  free(p->q);
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->cv);
}

static int by_path(const void *a, const void *b) {
  return strcmp(((const scan_entry *)a)->path, ((const scan_entry *)b)->path);
}

/* Merge the sorted lists a and b onto the end of out (taking their
** entries), keeping out sorted when it was and all of it sorts before. */
static void merge2(scan_list *a, scan_list *b, scan_list *out) {
  size_t i = 0, j = 0;
  while (i < a->n || j < b->n) {
    int take_a = j == b->n ||
                 (i < a->n && strcmp(a->v[i].path, b->v[j].path) <= 0);
    list_push(out, take_a ? &a->v[i++] : &b->v[j++]);
  }
  free(a->v);
  free(b->v);
}

/* A worker's loop ends by sorting what it found, so the workers sort in
** parallel and merge() only merges. */
static void *work_and_sort(void *arg) {
  worker *w = arg;
  work(w);
  if (w->out.n > 1) qsort(w->out.v, w->out.n, sizeof *w->out.v, by_path);
  return w;
}

/* Append the sorted findings of two workers to out, and sort out. */
static void merge(worker *w, scan_list *out, long *skipped) {
  size_t from = out->n;
  merge2(&w[0].out, &w[1].out, out);
  *skipped += w[0].skipped + w[1].skipped;
  if (from) qsort(out->v, out->n, sizeof *out->v, by_path);
}

/* Walk the folders queued on p: the calling thread as the worker *self
** (which may hold findings already), a helper beside it when there is a
** queue to share.  Then append everything to out, sorted. */
static void run_pool(pool *p, worker *self, scan_list *out, long *skipped) {
  worker w[2] = {*self, {.p = p}};
  pthread_t th;
  int helper = p->nq > 0 && cns_spawn(&th, work_and_sort, &w[1]);
  work_and_sort(&w[0]);
  if (helper) pthread_join(th, NULL);
  merge(w, out, skipped);
}

static int open_root(const char *root, buf *err) {
  int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    buf_addf(err, "cannot open notes folder '%s': %s", root, strerror(errno));
  return fd;
}

int scan_root(const char *root, const cns_config *cfg, scan_list *out,
              long *skipped, buf *err) {
  int fd = open_root(root, err);
  if (fd < 0) return CNS_EIO;
  pool p;
  pool_init(&p, cfg);
  worker self = {.p = &p};
  const rules *r = push_rules(&p, NULL, config_rules(cfg));
  dir_job j = {fd, cns_xstrdup(""), r, 0};
  submit(&self, &j);
  run_pool(&p, &self, out, skipped);
  pool_free(&p);
  return CNS_OK;
}

/* Step from the folder dfd into its subfolder name, as walk() would: not
** hidden, not ignored, a real folder.  Returns the new fd (dfd closed)
** or -1 (dfd closed too): nothing below can be a note. */
static int descend(const rules *r, int dfd, buf *rel, const char *name) {
  struct stat st;
  int ok = name[0] != '.' &&
           fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
           S_ISDIR(st.st_mode);
  if (ok) {
    if (rel->len) buf_addc(rel, '/');
    buf_adds(rel, name);
    ok = !ignored(r, rel->p, 1);
  }
  int sub = ok ? openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
                                       O_CLOEXEC)
               : -1;
  close(dfd);
  return sub;
}

int scan_under(const char *root, const cns_config *cfg, const char *rel,
               scan_list *out, long *skipped, buf *err) {
  int fd = open_root(root, err), depth = 0;
  if (fd < 0) return CNS_EIO;
  pool p;
  pool_init(&p, cfg);
  worker self = {.p = &p};
  const rules *r = push_rules(&p, NULL, config_rules(cfg));
  buf at = BUF_INIT;
  buf_adds(&at, "");
  char *path = cns_xstrdup(rel), *name = path, *slash;
  while (fd >= 0 && (slash = strchr(name, '/')) != NULL) {
    *slash = 0;
    r = load_ignores(&p, r, fd, at.p);
    fd = descend(r, fd, &at, name);
    name = slash + 1;
    depth++;
  }
  struct stat st; /* a file that is gone is simply not listed */
  if (fd >= 0 && name[0] && name[0] != '.' &&
      fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
    /* the last step, judged as the walk of its folder would judge it */
    r = load_ignores(&p, r, fd, at.p);
    dir_job parent = {fd, NULL, r, depth};
    if (at.len) buf_addc(&at, '/');
    buf_adds(&at, name);
    visit_unknown(&self, &parent, name, at.p);
  }
  if (fd >= 0) close(fd);
  free(path);
  buf_free(&at);
  run_pool(&p, &self, out, skipped);
  pool_free(&p);
  return CNS_OK;
}

void scan_list_free(scan_list *l) {
  for (size_t i = 0; i < l->n; i++) free(l->v[i].path);
  free(l->v);
  l->v = NULL;
  l->n = l->cap = 0;
}
