/*
** index.c -- bring the index up to date with the notes folder.
**
** An update is a merge of two sorted lists: the files the walk found
** (scan.c) and the notes the index holds, both ordered by path.  A file
** with no note is added; a note with no file is removed; a pair whose
** size or mtime differ is re-indexed.  Nothing else is read, so an update
** where nothing changed costs one walk and one index scan and writes
** nothing at all.  The index is read on a second thread while the walk
** runs (first_plan()): on two cores the freshness check every search
** makes costs the longer of the two, not their sum.
**
** cns_update_paths() runs the same merge on a part of the tree: the
** files scan_under() lists at the given paths against the notes the
** index holds at or below them.  It is what `cnsearch index PATH` and
** `cnsearch watch` run, so one saved note costs its own write and not a
** walk of every folder.
**
** All changes go into one IMMEDIATE transaction: a crash, a kill or an
** error anywhere leaves the index exactly as the last committed update
** left it, and the next run redoes the work.  A file that cannot be read
** is counted as skipped (a changed one leaves the index until it can be
** read again).  The reading, parsing and compressing of the notes to add
** runs on a second thread (feed.c) while this one writes; a large load (a
** rebuild, a first index) is a bulk load (store_bulk()).
*/
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cnsint.h"

/* A note as the index holds it; its path is at offset `path` of the
** list's names, so reading 40k notes costs a few allocations, not 40k. */
typedef struct known {
  long long id, size, mtime;
  size_t path;
} known;

typedef struct known_list {
  known *v;
  size_t n, cap;
  buf names;        /* every path, each ending in NUL */
} known_list;

#define KNOWN_PATH(kl, k) ((kl)->names.p + (k)->path)

static void known_free(known_list *k) {
  free(k->v);
  buf_free(&k->names);
}

/* The part of the notes an update looks at: everything (paths NULL), or
** these root-relative files and folders (cns_update_paths). */
typedef struct scope {
  const char *const *paths;
  size_t n;
} scope;

static const char *const known_sql[] = {
    "SELECT id, path, size, mtime FROM note", /* a table scan, sorted after */
    /* a scope path: the note of that name, then every note below it */
    "SELECT id, path, size, mtime FROM note WHERE path = ?1",
    "SELECT id, path, size, mtime FROM note WHERE path > ?1 || '/' AND "
    "path < ?1 || '0'", /* '0' follows '/' */
};

static void known_push(known_list *out, const known *k) {
  if (out->n == out->cap) {
    out->cap = out->cap ? out->cap * 2 : 256;
    out->v = cns_xrealloc(out->v, out->cap * sizeof *out->v);
  }
  out->v[out->n++] = *k;
}

/* Append the rows of sql (with ?1 = arg); an SQLite code.  It touches
** nothing but db and out, so it can run beside the walk (update()). */
static int add_known(sqlite3 *db, const char *sql, const char *arg,
                     known_list *out) {
  sqlite3_stmt *st;
  int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
  if (rc != SQLITE_OK) return rc;
  if (arg) sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    known k = {sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 2),
               sqlite3_column_int64(st, 3), out->names.len};
    const unsigned char *path = sqlite3_column_text(st, 1);
    if (!path) {
      rc = SQLITE_NOMEM;
      break;
    }
    buf_add(&out->names, path, (size_t)sqlite3_column_bytes(st, 1) + 1);
    known_push(out, &k);
  }
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int known_by_path(const void *a, const void *b, void *names) {
  return strcmp((const char *)names + ((const known *)a)->path,
                (const char *)names + ((const known *)b)->path);
}

/* Sort by path.  A table scan reads the notes in the order they were
** added, which is path order but for the notes added one at a time since
** the last full load: those few are set aside, sorted, and merged back,
** so the usual cost is one pass and not a full sort. */
static void sort_known(known_list *l) {
  char *names = l->names.p;
  known_list stray = {0};
  size_t kept = 0;
  for (size_t i = 0; i < l->n; i++) {
    if (kept && known_by_path(&l->v[kept - 1], &l->v[i], names) >= 0)
      known_push(&stray, &l->v[i]);
    else
      l->v[kept++] = l->v[i];
  }
  if (!stray.n) return;
  qsort_r(stray.v, stray.n, sizeof *stray.v, known_by_path, names);
  size_t i = kept, j = stray.n, k = l->n; /* merge from the back */
  while (j > 0) {
    if (i > 0 && known_by_path(&l->v[i - 1], &stray.v[j - 1], names) > 0)
      l->v[--k] = l->v[--i];
    else
      l->v[--k] = stray.v[--j];
  }
  free(stray.v);
}

/* What the index holds in scope sc, sorted by path (BINARY collation =
** strcmp), each note once; an SQLite code (as add_known()). */
static int load_known(sqlite3 *db, const scope *sc, known_list *out) {
  int rc = SQLITE_OK;
  if (!sc->paths) rc = add_known(db, known_sql[0], NULL, out);
  for (size_t i = 0; sc->paths && i < sc->n && rc == SQLITE_OK; i++) {
    rc = add_known(db, known_sql[1], sc->paths[i], out);
    if (rc == SQLITE_OK) rc = add_known(db, known_sql[2], sc->paths[i], out);
  }
  sort_known(out);
  size_t k = 0; /* overlapping scopes ("a", "a/b.md") list a note twice */
  for (size_t i = 0; i < out->n; i++)
    if (!k || strcmp(KNOWN_PATH(out, &out->v[k - 1]),
                     KNOWN_PATH(out, &out->v[i])) != 0)
      out->v[k++] = out->v[i];
  out->n = k;
  return rc;
}

/* Write one note the feed made; an unreadable or unparsable one is
** counted as skipped and keeps nothing (it is reported in stats, and the
** rest of the update goes on). */
static int add_note(cns *h, store *st, const feed_item *it,
                    cns_update_stats *stats) {
  if (!it->ok) {
    stats->skipped++;
    return CNS_OK;
  }
  if (store_put_doc(st, &it->doc, &h->err) != CNS_OK)
    return cns_dberr(h, "write the index");
  stats->bytes += (long long)it->len;
  return CNS_OK;
}

typedef struct plan {
  long long *drop;      /* note ids to remove */
  size_t ndrop;
  const scan_entry **add;
  size_t nadd;
  int bulk;             /* most of the index is (re)written: store_bulk() */
  long long version;    /* PRAGMA data_version before the index was read */
} plan;

/* Below this many notes, a bulk load's fixed costs are not worth it. */
#define BULK_MIN 256

static void plan_free(plan *p) {
  free(p->drop);
  free(p->add);
}

/* Merge the sorted lists into what to drop and what to (re)add. */
static void make_plan(const scan_list *files, const known_list *kn,
                      int rebuild, plan *p, cns_update_stats *stats) {
  size_t i = 0, j = 0;
  p->drop = cns_xmalloc((kn->n + 1) * sizeof *p->drop);
  p->add = cns_xmalloc((files->n + 1) * sizeof *p->add);
  while (i < files->n || j < kn->n) {
    int c = i == files->n ? 1 : j == kn->n ? -1
                                           : strcmp(files->v[i].path,
                                                    KNOWN_PATH(kn, &kn->v[j]));
    if (c < 0) {
      p->add[p->nadd++] = &files->v[i++];
      stats->added++;
    } else if (c > 0) {
      p->drop[p->ndrop++] = kn->v[j++].id;
      stats->removed++;
    } else {
      const scan_entry *f = &files->v[i++];
      const known *k = &kn->v[j++];
      if (!rebuild && f->size == k->size && f->mtime == k->mtime) continue;
      p->drop[p->ndrop++] = k->id;
      p->add[p->nadd++] = f;
      stats->changed++;
    }
  }
}

static int apply_plan(cns *h, store *st, const plan *p, int rebuild,
                      cns_update_stats *stats, cns_progress_fn progress,
                      void *arg) {
  int rc = CNS_OK;
  /* a rebuild empties the tables at once: one note at a time costs 3x */
  if (rebuild && (rc = store_clear(st, &h->err)) != CNS_OK)
    return cns_dberr(h, "empty the index");
  for (size_t i = 0; i < p->ndrop && !rc && !rebuild; i++)
    if ((rc = store_delete_note(st, p->drop[i], &h->err)) != CNS_OK)
      rc = cns_dberr(h, "update the index");
  if (!rc && p->bulk && (rc = store_bulk(st, 1, &h->err)) != CNS_OK)
    rc = cns_dberr(h, "update the index");
  feed *f = rc ? NULL : feed_start(h->root, p->add, p->nadd);
  feed_item *it;
  for (size_t i = 0; !rc && (it = feed_next(f)) != NULL; i++) {
    if (h->interrupted) rc = cns_seterr(h, CNS_EINTR, "interrupted");
    else rc = add_note(h, st, it, stats);
    feed_release(f, it);
    if (progress && (i % 64 == 0 || i + 1 == p->nadd))
      progress(arg, (long)i + 1, (long)p->nadd);
  }
  feed_end(f);
  if (!rc && p->bulk && (rc = store_bulk(st, 0, &h->err)) != CNS_OK)
    rc = cns_dberr(h, "update the index");
  return rc;
}

/* PRAGMA data_version: it changes when another connection commits. */
static int data_version(sqlite3 *db, long long *v) {
  sqlite3_stmt *st;
  int rc = sqlite3_prepare_v2(db, "PRAGMA data_version", -1, &st, NULL);
  if (rc != SQLITE_OK) return rc;
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) *v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return rc == SQLITE_ROW ? SQLITE_OK : rc;
}

/* Plan from what the walk found and what the index holds (kn). */
static void plan_with(const scan_list *files, const known_list *kn,
                      int rebuild, plan *p, cns_update_stats *stats) {
  long scanned = stats->scanned, skipped = stats->skipped;
  plan_free(p);
  memset(p, 0, sizeof *p);
  memset(stats, 0, sizeof *stats);
  stats->scanned = scanned;
  stats->skipped = skipped;
  make_plan(files, kn, rebuild, p, stats);
  p->bulk = p->nadd >= BULK_MIN && (rebuild || p->nadd >= kn->n);
}

/* Plan against what the index holds now. */
static int plan_update(cns *h, const scope *sc, const scan_list *files,
                       int rebuild, plan *p, cns_update_stats *stats) {
  known_list kn = {0};
  int rc = load_known(h->db, sc, &kn);
  if (rc == SQLITE_OK) plan_with(files, &kn, rebuild, p, stats);
  known_free(&kn);
  return rc == SQLITE_OK ? CNS_OK : cns_dberr(h, "read the index");
}

/* Inside the write transaction, plan again only if another connection
** has committed since the first plan read the index (PRAGMA data_version
** says so): else that plan would add its notes a second time. */
static int replan(cns *h, const scope *sc, const scan_list *files,
                  int rebuild, plan *p, cns_update_stats *stats) {
  long long now = 0;
  if (data_version(h->db, &now) != SQLITE_OK)
    return cns_dberr(h, "read the index");
  if (now == p->version) return CNS_OK;
  return plan_update(h, sc, files, rebuild, p, stats);
}

static int write_plan(cns *h, const scope *sc, const scan_list *files,
                      int rebuild, plan *p, cns_update_stats *stats,
                      cns_progress_fn progress, void *arg) {
  store *st;
  if (store_open(h->db, &st, &h->err) != CNS_OK)
    return cns_dberr(h, "prepare the index update");
  int rc = store_begin(st, &h->err);
  if (rc) rc = cns_dberr(h, "start the index update");
  if (!rc) rc = replan(h, sc, files, rebuild, p, stats);
  if (!rc) rc = apply_plan(h, st, p, rebuild, stats, progress, arg);
  if (!rc && store_commit(st, &h->err) != CNS_OK)
    rc = cns_dberr(h, "commit the index update");
  if (rc) store_rollback(st);
  store_close(st);
  if (rc && h->interrupted) rc = cns_seterr(h, CNS_EINTR, "interrupted; "
                                            "the index is as it was");
  return rc;
}

/* Drop repeated paths from a sorted list. */
static void unique_files(scan_list *l) {
  size_t k = 0;
  for (size_t i = 0; i < l->n; i++) {
    if (k && strcmp(l->v[k - 1].path, l->v[i].path) == 0) free(l->v[i].path);
    else l->v[k++] = l->v[i];
  }
  l->n = k;
}

/* The files in scope, as the walk lists them, sorted, each once. */
static int scan_scope(cns *h, const scope *sc, scan_list *files,
                      cns_update_stats *stats) {
  int rc = CNS_OK;
  if (!sc->paths)
    rc = scan_root(h->root, &h->cfg, files, &stats->skipped, &h->err);
  for (size_t i = 0; sc->paths && i < sc->n && !rc; i++)
    rc = scan_under(h->root, &h->cfg, sc->paths[i], files, &stats->skipped,
                    &h->err);
  if (rc) return cns_seterr(h, rc, "%s", buf_str(&h->err));
  if (sc->paths) unique_files(files); /* scopes may overlap; a walk cannot */
  stats->scanned = (long)files->n;
  return CNS_OK;
}

typedef struct known_job {
  sqlite3 *db;
  const scope *sc;
  known_list kn;
  int rc;       /* an SQLite code */
} known_job;

static void *load_known_job(void *arg) {
  known_job *j = arg;
  j->rc = load_known(j->db, j->sc, &j->kn);
  return NULL;
}

/* Walk and read what the index holds at the same time, then plan: the
** index is read on a second thread, which touches the connection alone
** while this one walks.  A scoped update is too small to be worth a
** thread. */
static int first_plan(cns *h, const scope *sc, scan_list *files, int rebuild,
                      plan *p, cns_update_stats *stats) {
  known_job j = {h->db, sc, {0}, SQLITE_OK};
  long long version = 0;
  if (data_version(h->db, &version) != SQLITE_OK)
    return cns_dberr(h, "read the index");
  pthread_t th;
  int threaded = !sc->paths && cns_spawn(&th, load_known_job, &j);
  int rc = scan_scope(h, sc, files, stats);
  if (threaded) pthread_join(th, NULL);
  else if (!rc) load_known_job(&j);
  if (!rc && j.rc != SQLITE_OK) rc = cns_dberr(h, "read the index");
  if (!rc) plan_with(files, &j.kn, rebuild, p, stats);
  p->version = version;
  known_free(&j.kn);
  return rc;
}

static int update(cns *h, const scope *sc, int rebuild,
                  cns_update_stats *stats, cns_progress_fn progress,
                  void *arg) {
  cns_update_stats local;
  if (!stats) stats = &local;
  memset(stats, 0, sizeof *stats);
  if (h->flags & CNS_OPEN_READONLY)
    return cns_seterr(h, CNS_EUSAGE, "the index was opened read-only");
  if (h->interrupted) return cns_seterr(h, CNS_EINTR, "interrupted");
  scan_list files = {0};
  plan p = {0};
  buf_reset(&h->err);
  /* a first plan without the write lock: nothing to do costs no lock */
  int rc = first_plan(h, sc, &files, rebuild, &p, stats);
  if (!rc && (p.ndrop || p.nadd))
    rc = write_plan(h, sc, &files, rebuild, &p, stats, progress, arg);
  plan_free(&p);
  scan_list_free(&files);
  return rc;
}

int cns_update(cns *h, int rebuild, cns_update_stats *stats,
               cns_progress_fn progress, void *arg) {
  scope all = {NULL, 0};
  return update(h, &all, rebuild, stats, progress, arg);
}

int cns_update_paths(cns *h, const char *const *paths, size_t n,
                     cns_update_stats *stats) {
  scope sc = {paths, n};
  for (size_t i = 0; i < n; i++)
    if (!paths[i][0]) sc.paths = NULL; /* the root itself: everything */
  return update(h, &sc, 0, stats, NULL, NULL);
}

/* New files in the plan that cannot be read: an update skips them (and
** says so), so they do not make the index out of date. */
static long unreadable(cns *h, const plan *p) {
  long n = 0;
  for (size_t i = 0; i < p->nadd; i++) {
    char *path = cns_xasprintf("%s/%s", h->root, p->add[i]->path);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) n++;
    else close(fd);
    free(path);
  }
  return n;
}

/* The index answers for the files as they are now: every note's size and
** mtime match its file, and every note file is in the index. */
static int check_fresh(cns *h) {
  cns_update_stats s;
  memset(&s, 0, sizeof s);
  scan_list files = {0};
  known_list kn = {0};
  plan p = {0};
  int rc = scan_root(h->root, &h->cfg, &files, &s.skipped, &h->err);
  if (rc) rc = cns_seterr(h, rc, "%s", buf_str(&h->err));
  scope all = {NULL, 0};
  if (!rc && load_known(h->db, &all, &kn) != SQLITE_OK)
    rc = cns_dberr(h, "read the index");
  if (!rc) {
    make_plan(&files, &kn, 0, &p, &s);
    s.added -= unreadable(h, &p);
    if (s.added || s.changed || p.ndrop)
      rc = cns_seterr(h, CNS_ECORRUPT,
                      "index is out of date (%ld new, %ld changed, %ld "
                      "removed notes); run 'cnsearch index'",
                      s.added, s.changed, s.removed);
  }
  plan_free(&p);
  known_free(&kn);
  scan_list_free(&files);
  return rc;
}

int cns_check(cns *h) {
  buf_reset(&h->err);
  int rc = store_check(h->db, &h->err);
  if (rc == CNS_ECORRUPT)
    return cns_seterr(h, rc, "index '%s' is damaged (%s); run 'cnsearch "
                             "index --rebuild'",
                      h->index_path, buf_str(&h->err));
  if (rc) return cns_seterr(h, rc, "cannot check index '%s': %s",
                            h->index_path, buf_str(&h->err));
  return check_fresh(h);
}
