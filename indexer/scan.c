/*
** scan.c -- walk the notes root and list the note files.
**
** The walk is the fixed cost of every search (a search first checks the
** index is fresh), so it does the least that is correct, in two passes.
** The first reads each folder once and judges its entries by the type
** readdir() gives (a stat only where the file system does not say);
** the second stats the note files for their size and mtime, on two
** threads when there are many: the stats are most of the walk, and
** each is independent of the others.  Hidden entries (".git",
** ".cnsearch", dot files) are skipped, as ripgrep does, and symbolic
** links are not followed, so a link can neither loop nor lead out of the
** root.
** .gitignore and .cnsearchignore files, and the config's ignore
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
/* From this many note files on, the second pass uses a second thread. */
#define STAT_THREAD_MIN 2048
#define NOT_STATED (-1)

typedef struct walker {
  const cns_config *cfg;
  scan_list *out;
  long *skipped;
  ign_set **sets;    /* rule sets in force, root first */
  size_t nsets;
  buf rel;           /* path of the current entry, relative to the root */
} walker;

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

/* Add path; st NULL leaves it to stat_all(). */
static void add_entry(scan_list *l, const char *path, const struct stat *st) {
  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 256;
    l->v = cns_xrealloc(l->v, l->cap * sizeof *l->v);
  }
  scan_entry *e = &l->v[l->n++];
  e->path = cns_xstrdup(path);
  if (st) set_state(e, st);
  else e->size = NOT_STATED;
}

static int ignored(const walker *w, const char *path, int is_dir) {
  for (size_t i = w->nsets; i-- > 0;) {
    int m = ign_match(w->sets[i], path, is_dir);
    if (m) return m > 0;
  }
  return 0;
}

static void push_set(walker *w, ign_set *s) {
  w->sets = cns_xrealloc(w->sets, (w->nsets + 1) * sizeof *w->sets);
  w->sets[w->nsets++] = s;
}

/* Read the ignore file `name` in the folder dfd, if there is one. */
static int load_ignore_file(walker *w, int dfd, const char *name) {
  int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return 0;
  buf b = BUF_INIT;
  char chunk[8192];
  ssize_t n;
  while ((n = read(fd, chunk, sizeof chunk)) > 0 && b.len < MAX_IGNORE_FILE)
    buf_add(&b, chunk, (size_t)n);
  close(fd);
  push_set(w, ign_parse(buf_str(&w->rel), buf_str(&b), b.len));
  buf_free(&b);
  return 1;
}

static void walk(walker *w, int dfd, int depth);

/* A regular file readdir() named: a note unless ignored; stated later. */
static void visit_file(walker *w, const char *name) {
  size_t keep = w->rel.len;
  if (w->rel.len) buf_addc(&w->rel, '/');
  buf_adds(&w->rel, name);
  if (!ignored(w, w->rel.p, 0)) add_entry(w->out, w->rel.p, NULL);
  w->rel.len = keep;
  w->rel.p[keep] = 0;
}

/* Visit one directory entry of the folder open as dfd. */
static void visit(walker *w, int dfd, const char *name, int depth) {
  struct stat st;
  if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    (*w->skipped)++;
    return;
  }
  size_t keep = w->rel.len;
  if (w->rel.len) buf_addc(&w->rel, '/');
  buf_adds(&w->rel, name);
  int is_dir = S_ISDIR(st.st_mode);
  if ((is_dir || S_ISREG(st.st_mode)) && ignored(w, w->rel.p, is_dir)) {
    /* left out on purpose */
  } else if (is_dir) {
    int sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub < 0 || depth >= MAX_DEPTH) {
      (*w->skipped)++;
      if (sub >= 0) close(sub);
    } else {
      walk(w, sub, depth + 1); /* closes sub */
    }
  } else if (S_ISREG(st.st_mode) && scan_is_note_name(w->cfg, name)) {
    add_entry(w->out, w->rel.p, &st);
  }
  w->rel.len = keep;
  w->rel.p[keep] = 0;
}

/* Walk the folder open as dfd; takes ownership of dfd. */
static void walk(walker *w, int dfd, int depth) {
  DIR *d = fdopendir(dfd);
  if (!d) {
    close(dfd);
    (*w->skipped)++;
    return;
  }
  size_t sets = w->nsets;
  load_ignore_file(w, dfd, ".gitignore");
  load_ignore_file(w, dfd, ".cnsearchignore");
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.') continue; /* ".", "..", hidden */
    if (de->d_type == DT_REG) {
      if (scan_is_note_name(w->cfg, de->d_name)) visit_file(w, de->d_name);
    } else if (de->d_type == DT_DIR || de->d_type == DT_UNKNOWN) {
      visit(w, dirfd(d), de->d_name, depth);
    } /* links, devices, sockets: never notes, never followed */
  }
  closedir(d);
  while (w->nsets > sets) ign_free(w->sets[--w->nsets]);
}

static int by_path(const void *a, const void *b) {
  return strcmp(((const scan_entry *)a)->path, ((const scan_entry *)b)->path);
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

/* ---- the second pass: sizes and mtimes ------------------------------ */

typedef struct stat_job {
  int rootfd;
  scan_entry *v;
  size_t n;
  long skipped;
} stat_job;

/* Stat each entry not stated yet; one that is gone or no longer a
** regular file is marked for removal (size -2) and counted. */
static void *stat_range(void *arg) {
  stat_job *j = arg;
  struct stat st;
  for (size_t i = 0; i < j->n; i++) {
    scan_entry *e = &j->v[i];
    if (e->size != NOT_STATED) continue;
    if (fstatat(j->rootfd, e->path, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISREG(st.st_mode)) {
      set_state(e, &st);
    } else {
      e->size = -2;
      j->skipped++;
    }
  }
  return NULL;
}

/* Run stat_range() over the whole list, the second half on a thread of
** its own when it is long. */
static void stat_all(int rootfd, scan_list *out, long *skipped) {
  size_t half = out->n >= STAT_THREAD_MIN ? out->n / 2 : out->n;
  stat_job a = {rootfd, out->v, half, 0};
  stat_job b = {rootfd, out->v + half, out->n - half, 0};
  pthread_t th;
  int threaded = b.n && cns_spawn(&th, stat_range, &b);
  stat_range(&a);
  if (threaded) pthread_join(th, NULL);
  else stat_range(&b);
  *skipped += a.skipped + b.skipped;
  size_t k = 0;
  for (size_t i = 0; i < out->n; i++) {
    if (out->v[i].size == -2) free(out->v[i].path);
    else out->v[k++] = out->v[i];
  }
  out->n = k;
}

static int open_root(const char *root, buf *err) {
  int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    buf_addf(err, "cannot open notes folder '%s': %s", root, strerror(errno));
  return fd;
}

static void walker_init(walker *w, const cns_config *cfg, scan_list *out,
                        long *skipped) {
  *w = (walker){cfg, out, skipped, NULL, 0, BUF_INIT};
  buf_adds(&w->rel, "");
  push_set(w, config_rules(cfg));
}

static void walker_free(walker *w) {
  while (w->nsets) ign_free(w->sets[--w->nsets]);
  free(w->sets);
  buf_free(&w->rel);
}

int scan_root(const char *root, const cns_config *cfg, scan_list *out,
              long *skipped, buf *err) {
  int fd = open_root(root, err);
  if (fd < 0) return CNS_EIO;
  walker w;
  walker_init(&w, cfg, out, skipped);
  int keep = dup(fd); /* walk() closes fd; the second pass needs the root */
  walk(&w, fd, 0);
  walker_free(&w);
  if (keep < 0) {
    buf_addf(err, "cannot read notes folder '%s': %s", root, strerror(errno));
    return CNS_EIO;
  }
  stat_all(keep, out, skipped);
  close(keep);
  if (out->n) qsort(out->v, out->n, sizeof *out->v, by_path);
  return CNS_OK;
}

/* Step from the folder dfd into its subfolder name, as walk() would: not
** hidden, not ignored, a real folder.  Returns the new fd (dfd closed)
** or -1 (dfd closed too): nothing below can be a note. */
static int descend(walker *w, int dfd, const char *name) {
  struct stat st;
  int ok = name[0] != '.' &&
           fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
           S_ISDIR(st.st_mode);
  if (ok) {
    if (w->rel.len) buf_addc(&w->rel, '/');
    buf_adds(&w->rel, name);
    ok = !ignored(w, w->rel.p, 1);
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
  walker w;
  walker_init(&w, cfg, out, skipped);
  char *path = cns_xstrdup(rel), *name = path, *slash;
  while (fd >= 0 && (slash = strchr(name, '/')) != NULL) {
    *slash = 0;
    load_ignore_file(&w, fd, ".gitignore");
    load_ignore_file(&w, fd, ".cnsearchignore");
    fd = descend(&w, fd, name);
    name = slash + 1;
    depth++;
  }
  struct stat st; /* a file that is gone is simply not listed */
  if (fd >= 0 && name[0] && name[0] != '.' &&
      fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
    load_ignore_file(&w, fd, ".gitignore");
    load_ignore_file(&w, fd, ".cnsearchignore");
    visit(&w, fd, name, depth);
  }
  if (fd >= 0) close(fd);
  free(path);
  walker_free(&w);
  int rootfd = open_root(root, err);
  if (rootfd < 0) return CNS_EIO;
  stat_all(rootfd, out, skipped);
  close(rootfd);
  if (out->n) qsort(out->v, out->n, sizeof *out->v, by_path);
  return CNS_OK;
}

void scan_list_free(scan_list *l) {
  for (size_t i = 0; i < l->n; i++) free(l->v[i].path);
  free(l->v);
  l->v = NULL;
  l->n = l->cap = 0;
}
