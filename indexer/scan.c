/*
** scan.c -- walk the notes root and list the note files.
**
** The walk is the fixed cost of every search (a search first checks the
** index is fresh), so it does the least that is correct: one readdir per
** folder and one fstatat() per entry, relative to an open folder fd so no
** path is resolved twice.  Hidden entries (".git", ".cnsearch", dot
** files) are skipped, as ripgrep does, and symbolic links are not
** followed, so a link can neither loop nor lead out of the root.
**
** The result is a list of (path relative to the root, size, mtime in ns),
** sorted by path, for index.c to compare with what the index holds.
** scan.c never opens a note's contents.
*/
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cnsint.h"

#define MAX_DEPTH 128

int scan_is_note_name(const char *name) {
  static const char *exts[] = {".md", ".markdown", ".mdx", ".txt"};
  size_t n = strlen(name);
  for (size_t i = 0; i < sizeof exts / sizeof *exts; i++) {
    size_t e = strlen(exts[i]);
    if (n > e && strcasecmp(name + n - e, exts[i]) == 0) return 1;
  }
  return 0;
}

static void add_entry(scan_list *l, const char *path, const struct stat *st) {
  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 256;
    l->v = cns_xrealloc(l->v, l->cap * sizeof *l->v);
  }
  scan_entry *e = &l->v[l->n++];
  e->path = cns_xstrdup(path);
  e->size = st->st_size;
  e->mtime = (long long)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
}

static void walk(int dfd, buf *rel, int depth, scan_list *out, long *skipped);

/* Visit one directory entry of the folder open as dfd. */
static void visit(int dfd, const char *name, buf *rel, int depth,
                  scan_list *out, long *skipped) {
  struct stat st;
  if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    (*skipped)++;
    return;
  }
  size_t keep = rel->len;
  if (rel->len) buf_addc(rel, '/');
  buf_adds(rel, name);
  if (S_ISDIR(st.st_mode)) {
    int sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub < 0 || depth >= MAX_DEPTH) {
      (*skipped)++;
      if (sub >= 0) close(sub);
    } else {
      walk(sub, rel, depth + 1, out, skipped); /* closes sub */
    }
  } else if (S_ISREG(st.st_mode) && scan_is_note_name(name)) {
    add_entry(out, rel->p, &st);
  }
  rel->len = keep;
  rel->p[keep] = 0;
}

/* Walk the folder open as dfd; takes ownership of dfd. */
static void walk(int dfd, buf *rel, int depth, scan_list *out, long *skipped) {
  DIR *d = fdopendir(dfd);
  if (!d) {
    close(dfd);
    (*skipped)++;
    return;
  }
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.') continue; /* ".", "..", hidden */
    if (de->d_type == DT_REG && !scan_is_note_name(de->d_name)) continue;
    visit(dirfd(d), de->d_name, rel, depth, out, skipped);
  }
  closedir(d);
}

static int by_path(const void *a, const void *b) {
  return strcmp(((const scan_entry *)a)->path, ((const scan_entry *)b)->path);
}

int scan_root(const char *root, scan_list *out, long *skipped, buf *err) {
  int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    buf_addf(err, "cannot open notes folder '%s': %s", root, strerror(errno));
    return CNS_EIO;
  }
  buf rel = BUF_INIT;
  buf_adds(&rel, "");
  walk(fd, &rel, 0, out, skipped);
  buf_free(&rel);
  if (out->n) qsort(out->v, out->n, sizeof *out->v, by_path);
  return CNS_OK;
}

void scan_list_free(scan_list *l) {
  for (size_t i = 0; i < l->n; i++) free(l->v[i].path);
  free(l->v);
  l->v = NULL;
  l->n = l->cap = 0;
}
