/*
** scan.c -- walk the notes root and list the note files.
**
** The walk is the fixed cost of every search (a search first checks the
** index is fresh), so it does the least that is correct.  Each folder is
** read once, with getdents64(), which gives each entry's type, so only
** note files are stated (for their size and mtime), and each stat names
** the file relative to its open folder, which spares the kernel a lookup
** of every folder on the path.  Folders go on a queue that one worker
** per core shares (walkers()), so every core reads folders and stats
** files; a folder of many notes has its stats split between two threads
** too.  Hidden entries
** (".git", ".cnsearch", dot files) are skipped, as ripgrep does, and
** symbolic links are not followed, so a link can neither loop nor lead
** out of the root.  .gitignore and .cnsearchignore files, and the
** config's ignore patterns, leave files and whole folders out (ignore.c);
** a folder's ignore files are read only when its listing names them.
**
** The result is a list of (path relative to the root, size, mtime in ns),
** sorted by path, for index.c to compare with what the index holds.  Each
** folder sorts its own notes and subfolders as it is read; when the walk
** ends, a pass over that tree of folders lists every note in order, so
** the whole list is never sorted.  scan.c never opens a note's contents.
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
#include <sched.h>
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
#define WALKERS_MAX 8
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

/* A folder's findings: its notes, sorted by name, and its subfolders,
** sorted by name, each with its own findings.  The walk fills the tree
** in any order on any thread; it is read in order when the walk ends
** (emit()), which lists every note sorted by path without a sort of the
** whole list. */
typedef struct folder folder;

typedef struct kid {
  char *name;
  folder *f;         /* NULL: the folder could not be read */
} kid;

struct folder {
  scan_list notes;   /* paths from the root */
  uint64_t sum;      /* the XOR of their scan_note_hash()es */
  size_t skip;       /* bytes of each path before the note's name */
  kid *kids;
  size_t nkids, cap;
};

/* A folder to read: open as fd (the job owns it), at path rel, its
** findings going to f. */
typedef struct dir_job {
  int fd;
  char *rel;
  const rules *r;
  int depth;
  folder *f;
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

/* A folder's raw entries, as getdents64() returns them. */
typedef struct listing {
  char *p;
  size_t len, cap;
} listing;

/* Paths, copied one after another into large blocks: 40k notes cost a
** few dozen allocations, and freeing them as many. */
typedef struct strings {
  char **blocks;
  size_t n, cap;
  char *at;          /* the free end of the last block */
  size_t left;
} strings;

#define STRINGS_BLOCK 65536

/* One worker: what it could not read is counted here. */
typedef struct worker {
  pool *p;
  long skipped;
  size_t found;      /* notes listed */
  listing ls;        /* the folder being read; reused */
  strings paths;     /* its notes' paths, handed to the list at the end */
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
    l->cap = l->cap ? l->cap * 2 : 8;
    l->v = cns_xrealloc(l->v, l->cap * sizeof *l->v);
  }
  l->v[l->n++] = *e;
}

/* A copy of s kept in ss. */
static char *keep(strings *ss, const char *s) {
  size_t n = strlen(s) + 1;
  if (n > ss->left) {
    size_t size = n > STRINGS_BLOCK ? n : STRINGS_BLOCK;
    if (ss->n == ss->cap) {
      ss->cap = ss->cap ? ss->cap * 2 : 16;
      ss->blocks = cns_xrealloc(ss->blocks, ss->cap * sizeof *ss->blocks);
    }
    ss->at = ss->blocks[ss->n++] = cns_xmalloc(size);
    ss->left = size;
  }
  char *p = memcpy(ss->at, s, n);
  ss->at += n;
  ss->left -= n;
  return p;
}

/* Hand the blocks of ss over to the list l. */
static void give_strings(strings *ss, scan_list *l) {
  if (!ss->n) return;
  l->blocks = cns_xrealloc(l->blocks,
                           (l->nblocks + ss->n) * sizeof *l->blocks);
  memcpy(l->blocks + l->nblocks, ss->blocks, ss->n * sizeof *ss->blocks);
  l->nblocks += ss->n;
  free(ss->blocks);
  memset(ss, 0, sizeof *ss);
}

/* Add path (a copy in w's blocks) to l, to be stated later. */
static void add_entry(worker *w, scan_list *l, const char *path) {
  scan_entry e = {keep(&w->paths, path), NOT_STATED, 0};
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

#define HAS_GITIGNORE 1
#define HAS_CNSIGNORE 2
#define HAS_BOTH (HAS_GITIGNORE | HAS_CNSIGNORE)

/* Load the ignore files of the folder dfd (at rel) that `has` names. */
static const rules *load_ignores(pool *p, const rules *r, int dfd,
                                 const char *rel, int has) {
  if (has & HAS_GITIGNORE) r = load_ignore_file(p, r, dfd, rel, ".gitignore");
  if (has & HAS_CNSIGNORE)
    r = load_ignore_file(p, r, dfd, rel, ".cnsearchignore");
  return r;
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

/* Drop the entries marked GONE from l, counting them. */
static void drop_gone(scan_list *l, long *skipped) {
  size_t k = 0;
  for (size_t i = 0; i < l->n; i++) {
    if (l->v[i].size == GONE) {
      (*skipped)++;
    } else {
      l->v[k++] = l->v[i];
    }
  }
  l->n = k;
}

/* ---- a note's state in brief ---------------------------------------- */

/* For the folder briefs (scan_dir): it changes with any of the three. */
uint64_t scan_note_hash(const char *path, long long size, long long mtime) {
  uint64_t h = cns_hash(path, strlen(path));
  h = cns_hash_mix(h ^ (uint64_t)size);
  return cns_hash_mix(h ^ (uint64_t)mtime);
}

size_t scan_dir_len(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? (size_t)(slash - path) : 0;
}

static uint64_t sum_notes(const scan_list *l) {
  uint64_t sum = 0;
  for (size_t i = 0; i < l->n; i++)
    sum ^= scan_note_hash(l->v[i].path, l->v[i].size, l->v[i].mtime);
  return sum;
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

static void add_kid(folder *f, const char *name) {
  if (f->nkids == f->cap) {
    f->cap = f->cap ? f->cap * 2 : 8;
    f->kids = cns_xrealloc(f->kids, f->cap * sizeof *f->kids);
  }
  f->kids[f->nkids++] = (kid){cns_xstrdup(name), NULL};
}

/* Judge the entry `name` (at path) of the folder j reads, of listed
** type t: a note goes on f's list (to be stated), a folder on its
** subfolders.  Links, devices and sockets are never notes, never
** followed; a type the listing left open is learnt first. */
static void take(worker *w, const dir_job *j, folder *f, const char *name,
                 unsigned char t, const char *path) {
  struct stat st;
  int stated = t == DT_UNKNOWN;
  if (stated) {
    if (fstatat(j->fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      w->skipped++;
      return;
    }
    t = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : 0;
    if (t == DT_REG && !scan_is_note_name(w->p->cfg, name)) return;
  }
  if (t == DT_DIR) {
    if (!ignored(j->r, path, 1)) add_kid(f, name);
  } else if (t == DT_REG && !ignored(j->r, path, 0)) {
    add_entry(w, &f->notes, path);
    if (stated) set_state(&f->notes.v[f->notes.n - 1], &st);
  }
}

static int by_name(const void *a, const void *b, void *skip) {
  size_t k = *(const size_t *)skip;
  return strcmp(((const scan_entry *)a)->path + k,
                ((const scan_entry *)b)->path + k);
}

/* Subfolders in the order of their notes' paths: by name + "/", so
** "b-" and "b.d" come before "b" ('-' and '.' sort before '/'). */
static int kid_by_name(const void *pa, const void *pb) {
  const unsigned char *a = (const unsigned char *)((const kid *)pa)->name;
  const unsigned char *b = (const unsigned char *)((const kid *)pb)->name;
  while (*a && *a == *b) a++, b++;
  return (*a ? *a : '/') - (*b ? *b : '/');
}

/* Open the subfolders of f (in the folder j read) and queue them, each
** with a folder of its own to fill.  It runs once j's own notes are
** listed: a subfolder walked here (the queue being full) must not mix
** its notes into f's. */
static void open_kids(worker *w, const dir_job *j, folder *f) {
  buf path = BUF_INIT;
  for (size_t i = 0; i < f->nkids; i++) {
    kid *k = &f->kids[i];
    int sub = j->depth < MAX_DEPTH
                  ? openat(j->fd, k->name,
                           O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                  : -1;
    if (sub < 0) {
      w->skipped++;
      continue;
    }
    path.len = 0;
    if (f->skip) {
      buf_add(&path, j->rel, f->skip - 1);
      buf_addc(&path, '/');
    }
    buf_adds(&path, k->name);
    k->f = cns_xcalloc(1, sizeof *k->f);
    dir_job s = {sub, cns_xstrdup(path.p), j->r, j->depth + 1, k->f};
    submit(w, &s);
  }
  buf_free(&path);
}

/* Read all of the folder fd's entries into ls; 0, or -1 (errno set).
** getdents64() on the open folder costs one call per 32 KB of entries,
** where opendir() would add an fstat, two fcntls and a buffer. */
static int read_listing(int fd, listing *ls) {
  ls->len = 0;
  for (;;) {
    if (ls->cap - ls->len < 32768) {
      ls->cap = ls->cap ? ls->cap * 2 : 65536;
      ls->p = cns_xrealloc(ls->p, ls->cap);
    }
    ssize_t n = getdents64(fd, ls->p + ls->len, ls->cap - ls->len);
    if (n < 0) return -1;
    if (n == 0) return 0;
    ls->len += (size_t)n;
  }
}

#define EACH_ENTRY(ls, de)                                              \
  for (struct dirent64 *de = (struct dirent64 *)(ls)->p;               \
       (char *)de < (ls)->p + (ls)->len;                               \
       de = (struct dirent64 *)((char *)de + de->d_reclen))

/* Which ignore files the listing holds (a link to one is not read, as
** the walk follows no link). */
static int ignore_files(const listing *ls) {
  int has = 0;
  EACH_ENTRY(ls, de) {
    if (de->d_name[0] != '.' ||
        (de->d_type != DT_REG && de->d_type != DT_UNKNOWN))
      continue;
    if (strcmp(de->d_name, ".gitignore") == 0) has |= HAS_GITIGNORE;
    else if (strcmp(de->d_name, ".cnsearchignore") == 0) has |= HAS_CNSIGNORE;
  }
  return has;
}

/* Read the folder of job j: list its notes, stat them, sort them and its
** subfolders, and submit those.  Takes ownership of j's fd and path. */
static void walk(worker *w, dir_job *j) {
  listing *ls = &w->ls;
  if (read_listing(j->fd, ls) != 0) {
    close(j->fd);
    free(j->rel);
    w->skipped++;
    return;
  }
  j->r = load_ignores(w->p, j->r, j->fd, j->rel, ignore_files(ls));
  folder *f = j->f;
  f->skip = j->rel[0] ? strlen(j->rel) + 1 : 0;
  buf path = BUF_INIT;
  EACH_ENTRY(ls, de) {
    const char *name = de->d_name;
    if (name[0] == '.') continue; /* ".", "..", hidden */
    unsigned char t = de->d_type;
    if (t != DT_REG && t != DT_DIR && t != DT_UNKNOWN) continue;
    if (t == DT_REG && !scan_is_note_name(w->p->cfg, name)) continue;
    path.len = 0;
    if (f->skip) {
      buf_adds(&path, j->rel);
      buf_addc(&path, '/');
    }
    buf_adds(&path, name);
    take(w, j, f, name, t, path.p);
  }
  buf_free(&path);
  stat_folder(j->fd, f->skip, f->notes.v, f->notes.n);
  drop_gone(&f->notes, &w->skipped);
  w->found += f->notes.n;
  f->sum = sum_notes(&f->notes);
  if (f->notes.n > 1)
    qsort_r(f->notes.v, f->notes.n, sizeof *f->notes.v, by_name, &f->skip);
  if (f->nkids > 1) qsort(f->kids, f->nkids, sizeof *f->kids, kid_by_name);
  open_kids(w, j, f);
  close(j->fd);
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

static void *work_job(void *arg) {
  work(arg);
  return NULL;
}

/* ---- the list, in order ---------------------------------------------- */

/* strcmp(note, dir + "/"): where a subfolder's notes go among its
** siblings, as a sort of the whole paths would put them. */
static int note_vs_dir(const char *note, const char *dir) {
  size_t n = strlen(dir);
  int c = strncmp(note, dir, n);
  return c ? c : (int)(unsigned char)note[n] - '/';
}

static void add_dir(scan_list *out, const folder *f) {
  if (out->ndirs == out->dcap) {
    out->dcap = out->dcap ? out->dcap * 2 : 64;
    out->dirs = cns_xrealloc(out->dirs, out->dcap * sizeof *out->dirs);
  }
  const char *first = f->notes.v[0].path;
  out->dirs[out->ndirs++] = (scan_dir){
      cns_xstrndup(first, f->skip ? f->skip - 1 : 0),
      (long long)f->notes.n, f->sum};
}

/* Append f's notes and those below it to out, in path order, and free
** what f holds (the notes' paths pass to out).  With dirs, each folder
** that holds notes is listed in brief too. */
static void emit(folder *f, scan_list *out, int dirs) {
  if (dirs && f->notes.n) add_dir(out, f);
  size_t i = 0, k = 0;
  while (i < f->notes.n || k < f->nkids) {
    if (k == f->nkids ||
        (i < f->notes.n &&
         note_vs_dir(f->notes.v[i].path + f->skip, f->kids[k].name) < 0)) {
      list_push(out, &f->notes.v[i++]);
      continue;
    }
    folder *sub = f->kids[k].f;
    free(f->kids[k++].name);
    if (!sub) continue;
    emit(sub, out, dirs);
    free(sub);
  }
  free(f->notes.v);
  free(f->kids);
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

int scan_by_path(const void *a, const void *b) {
  return strcmp(((const scan_entry *)a)->path, ((const scan_entry *)b)->path);
}

static int dir_by_path(const void *a, const void *b) {
  return strcmp(((const scan_dir *)a)->path, ((const scan_dir *)b)->path);
}

/* How many workers walk: one per core the process may run on (up to
** WALKERS_MAX: the walk is the kernel's stats and folder reads, which
** scale with cores), or $CNSEARCH_WALKERS, which tests use to run more
** workers than this machine has cores. */
static int walkers(void) {
  const char *e = getenv("CNSEARCH_WALKERS");
  long n = 0;
  if (e && *e) {
    n = strtol(e, NULL, 10);
  } else {
    cpu_set_t set;
    n = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 2;
  }
  return n < 1 ? 1 : n > WALKERS_MAX ? WALKERS_MAX : (int)n;
}

/* Walk the folders queued on p: the calling thread as the worker *self
** (whose findings it keeps), helpers beside it when there is a queue to
** share.  Then append the notes of top and below to out, which stays
** sorted. */
static void run_pool(pool *p, worker *self, folder *top, scan_list *out,
                     long *skipped, int dirs) {
  int n = p->nq > 0 ? walkers() : 1, started = 1;
  worker *w = cns_xcalloc((size_t)n, sizeof *w);
  pthread_t *th = cns_xcalloc((size_t)n, sizeof *th);
  w[0] = *self;
  for (int i = 1; i < n; i++) {
    w[i].p = p;
    if (cns_spawn(&th[started], work_job, &w[i])) started++;
  }
  work(&w[0]);
  for (int i = 1; i < started; i++) pthread_join(th[i], NULL);
  size_t more = top->notes.n;
  for (int i = 0; i < n; i++) {
    *skipped += w[i].skipped;
    more += w[i].found;
    free(w[i].ls.p);
    give_strings(&w[i].paths, out);
  }
  free(w);
  free(th);
  size_t from = out->n;
  if (out->cap < from + more) {
    out->cap = from + more;
    out->v = cns_xrealloc(out->v, (out->cap ? out->cap : 1) * sizeof *out->v);
  }
  emit(top, out, dirs);
  if (from) qsort(out->v, out->n, sizeof *out->v, scan_by_path);
  /* the tree lists "a.b" before "a" (as "a.b/" sorts before "a/") */
  if (out->ndirs > 1)
    qsort(out->dirs, out->ndirs, sizeof *out->dirs, dir_by_path);
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
  folder top = {0};
  dir_job j = {fd, cns_xstrdup(""), r, 0, &top};
  submit(&self, &j);
  run_pool(&p, &self, &top, out, skipped, 1);
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
    r = load_ignores(&p, r, fd, at.p, HAS_BOTH);
    fd = descend(r, fd, &at, name);
    name = slash + 1;
    depth++;
  }
  /* the last step, judged as the walk of its folder would judge it; a
  ** file that is gone is simply not listed */
  folder top = {.skip = at.len ? at.len + 1 : 0};
  struct stat st;
  if (fd >= 0 && name[0] && name[0] != '.' &&
      fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
    r = load_ignores(&p, r, fd, at.p, HAS_BOTH);
    dir_job parent = {fd, at.p, r, depth, &top};
    unsigned char t = S_ISDIR(st.st_mode) ? DT_DIR
                      : S_ISREG(st.st_mode) && scan_is_note_name(cfg, name)
                          ? DT_REG
                          : 0;
    buf full = BUF_INIT;
    if (at.len) {
      buf_adds(&full, at.p);
      buf_addc(&full, '/');
    }
    buf_adds(&full, name);
    take(&self, &parent, &top, name, t, full.p);
    buf_free(&full);
    if (top.notes.n) set_state(&top.notes.v[0], &st); /* stated above */
    open_kids(&self, &parent, &top);
  }
  if (fd >= 0) close(fd);
  free(path);
  buf_free(&at);
  run_pool(&p, &self, &top, out, skipped, 0);
  pool_free(&p);
  return CNS_OK;
}

void scan_list_free(scan_list *l) {
  free(l->v);
  for (size_t i = 0; i < l->nblocks; i++) free(l->blocks[i]);
  free(l->blocks);
  for (size_t i = 0; i < l->ndirs; i++) free(l->dirs[i].path);
  free(l->dirs);
  memset(l, 0, sizeof *l);
}
