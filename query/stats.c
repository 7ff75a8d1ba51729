/*
** stats.c -- what the index holds, for `cnsearch stats` and `tags`.
**
** Read-only questions about the index as a whole: how many notes,
** sections, links and fetched pages; how big it is beside the notes it
** caches; when it was last written; and every tag with the number of
** notes that carry it (front matter `tags:` and `#tags`, as md.c found
** them, stored space-separated in note.tags).
*/
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cnsint.h"

/* First column of the first row of sql as an integer; 0 when the table
** does not exist (an index from before linked pages). */
static long long count(cns *h, const char *sql, int *rc) {
  sqlite3_stmt *st;
  long long v = 0;
  if (sqlite3_prepare_v2(h->db, sql, -1, &st, NULL) != SQLITE_OK) return 0;
  int s = sqlite3_step(st);
  if (s == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
  else if (s != SQLITE_DONE) *rc = cns_dberr(h, "read the index");
  sqlite3_finalize(st);
  return v;
}

static long long file_size(const char *path, long long *mtime) {
  struct stat st;
  if (stat(path, &st) != 0) return 0;
  if (st.st_mtime > *mtime) *mtime = st.st_mtime;
  return st.st_size;
}

int cns_get_stats(cns *h, cns_stats *out) {
  int rc = CNS_OK;
  memset(out, 0, sizeof *out);
  out->notes = count(h, "SELECT count(*) FROM note", &rc);
  out->sections = count(h, "SELECT count(*) FROM section", &rc);
  out->links = count(h, "SELECT count(*) FROM link", &rc);
  out->note_bytes = count(h, "SELECT sum(size) FROM note", &rc);
  out->pages = count(h, "SELECT count(*) FROM page WHERE body IS NOT NULL", &rc);
  out->tagged = count(h, "SELECT count(*) FROM note WHERE tags IS NOT NULL", &rc);
  char *wal = cns_xasprintf("%s-wal", h->index_path);
  out->index_bytes = file_size(h->index_path, &out->updated) +
                     file_size(wal, &out->updated);
  free(wal);
  return rc;
}

long cns_note_count(cns *h) {
  int rc = CNS_OK;
  long long n = count(h, "SELECT coalesce(sum(notes), 0) FROM folder", &rc);
  return rc ? -1 : (long)n;
}

typedef struct tagc {
  char *tag;
  long n;
} tagc;

static int by_tag(const void *a, const void *b) {
  return strcmp(((const tagc *)a)->tag, ((const tagc *)b)->tag);
}

static int by_count(const void *a, const void *b) {
  const tagc *x = a, *y = b;
  if (x->n != y->n) return x->n > y->n ? -1 : 1;
  return strcmp(x->tag, y->tag);
}

/* Every tag of every note, one entry each (so duplicates are counted). */
static int read_tags(cns *h, tagc **out, size_t *n) {
  sqlite3_stmt *st;
  size_t cap = 0;
  if (sqlite3_prepare_v2(h->db, "SELECT tags FROM note WHERE tags IS NOT NULL",
                         -1, &st, NULL) != SQLITE_OK)
    return cns_dberr(h, "read tags");
  int s;
  while ((s = sqlite3_step(st)) == SQLITE_ROW) {
    char *all = cns_xstrdup((const char *)sqlite3_column_text(st, 0));
    for (char *save, *t = strtok_r(all, " ", &save); t;
         t = strtok_r(NULL, " ", &save)) {
      if (*n == cap) {
        cap = cap ? cap * 2 : 64;
        *out = cns_xrealloc(*out, cap * sizeof **out);
      }
      (*out)[(*n)++] = (tagc){cns_xstrdup(t), 1};
    }
    free(all);
  }
  sqlite3_finalize(st);
  return s == SQLITE_DONE ? CNS_OK : cns_dberr(h, "read tags");
}

int cns_each_tag(cns *h, cns_tag_fn fn, void *arg) {
  tagc *v = NULL;
  size_t n = 0, m = 0;
  int rc = read_tags(h, &v, &n);
  if (!rc && n) {
    qsort(v, n, sizeof *v, by_tag);
    for (size_t i = 0; i < n; i++) { /* fold runs of one tag */
      if (m && strcmp(v[m - 1].tag, v[i].tag) == 0) {
        v[m - 1].n++;
        free(v[i].tag);
      } else {
        v[m++] = v[i];
      }
    }
    qsort(v, m, sizeof *v, by_count);
    for (size_t i = 0; i < m; i++) fn(arg, v[i].tag, v[i].n);
  } else {
    m = n;
  }
  for (size_t i = 0; i < m; i++) free(v[i].tag);
  free(v);
  return rc;
}
