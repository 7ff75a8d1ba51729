/*
** index.c -- bring the index up to date with the notes folder.
**
** An update is a merge of two sorted lists: the files the walk found
** (scan.c) and the notes the index holds, both ordered by path.  A file
** with no note is added; a note with no file is removed; a pair whose
** size or mtime differ is re-indexed.
**
** Reading every note's path, size and mtime from the index cost 8-10 ms
** of CPU at 43k notes, beside the walk's 70, on every search.  So the
** index keeps each folder's notes in brief (table folder: how many lie
** directly in it and the XOR of a 64-bit hash of each one's path, size
** and mtime; store.c keeps it in the same transaction as the notes), the
** walk computes the same for what it finds, and only the folders whose
** briefs differ have their notes read and merged (plan_changed()).  A
** changed note changes its folder's brief unless two 64-bit hashes
** collide.  An update where nothing changed reads a few hundred rows and
** writes nothing at all; when a quarter of the notes may have changed,
** all of them are read.  `cnsearch check` counts the briefs afresh from
** the notes and compares.
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

/* Append the rows of sql (with ?1 = arg); an SQLite code.  With dir, only
** the notes whose folder part is *dir bytes long: with known_sql[2], the
** notes directly in the folder arg. */
static int add_known(sqlite3 *db, const char *sql, const char *arg,
                     const size_t *dir, known_list *out) {
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
    if (dir && scan_dir_len((const char *)path) != *dir) continue;
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

/* Sort by path (BINARY collation = strcmp).  A table scan reads the
** notes in the order they were added, which is path order but for the
** notes added one at a time since the last full load: those few are set
** aside, sorted, and merged back, so the usual cost is one pass and not
** a full sort. */
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

/* Keep each note of the sorted list once: overlapping scopes ("a",
** "a/b.md") list a note twice.  A whole-index read or distinct folders
** cannot, and skip this pass. */
static void drop_repeats(known_list *out) {
  size_t k = 0;
  for (size_t i = 0; i < out->n; i++)
    if (!k || strcmp(KNOWN_PATH(out, &out->v[k - 1]),
                     KNOWN_PATH(out, &out->v[i])) != 0)
      out->v[k++] = out->v[i];
  out->n = k;
}

/* What the index holds in scope sc, sorted, each note once; an SQLite
** code (as add_known()). */
static int load_known(sqlite3 *db, const scope *sc, known_list *out) {
  int rc = SQLITE_OK;
  if (!sc->paths) rc = add_known(db, known_sql[0], NULL, NULL, out);
  for (size_t i = 0; sc->paths && i < sc->n && rc == SQLITE_OK; i++) {
    rc = add_known(db, known_sql[1], sc->paths[i], NULL, out);
    if (rc == SQLITE_OK)
      rc = add_known(db, known_sql[2], sc->paths[i], NULL, out);
  }
  sort_known(out);
  if (sc->paths) drop_repeats(out);
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
  scan_entry *view;     /* the walk's notes in changed folders (add points
                           here), their paths the walk's */
} plan;

/* Below this many notes, a bulk load's fixed costs are not worth it. */
#define BULK_MIN 256

static void plan_free(plan *p) {
  free(p->drop);
  free(p->add);
  free(p->view);
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

/* A bulk load into an empty index compresses the bodies against a
** dictionary made from samples of them (zip.c). */
static int new_dict(cns *h, store *st, const plan *p) {
  buf samples = BUF_INIT;
  size_t sizes[ZIP_SAMPLES];
  unsigned n = feed_sample(h->root, p->add, p->nadd, &samples, sizes);
  int rc = store_new_dict(st, samples.p, sizes, n, &h->err);
  buf_free(&samples);
  return rc;
}

static int apply_plan(cns *h, store *st, const plan *p, int rebuild,
                      cns_update_stats *stats, cns_progress_fn progress,
                      void *arg) {
  int rc = CNS_OK;
  /* a rebuild empties the tables at once: one note at a time costs 3x */
  if (rebuild && (rc = store_clear(st, &h->err)) != CNS_OK)
    return cns_dberr(h, "empty the index");
  /* the plan lists old versions by path; the store deletes them in id
  ** order, one FTS5 segment for all of them */
  if (!rebuild && store_delete_notes(st, p->drop, p->ndrop, &h->err))
    rc = cns_dberr(h, "update the index");
  if (!rc && p->bulk && (rc = store_bulk(st, 1, &h->err)) != CNS_OK)
    rc = cns_dberr(h, "update the index");
  if (!rc && p->bulk && (rc = new_dict(h, st, p)) != CNS_OK)
    rc = cns_dberr(h, "update the index");
  const zip_dict *dict = NULL;
  if (!rc && p->nadd && (rc = store_dict(st, &dict, &h->err)) != CNS_OK)
    rc = cns_dberr(h, "update the index");
  feed *f = rc ? NULL : feed_start(h->db, h->root, p->add, p->nadd, dict);
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

/* Plan from what the walk found and what the index holds (kn) of it; the
** index holds `total` notes in all. */
static void plan_with(const scan_list *files, const known_list *kn,
                      size_t total, int rebuild, plan *p,
                      cns_update_stats *stats) {
  long scanned = stats->scanned, skipped = stats->skipped;
  plan_free(p);
  memset(p, 0, sizeof *p);
  memset(stats, 0, sizeof *stats);
  stats->scanned = scanned;
  stats->skipped = skipped;
  make_plan(files, kn, rebuild, p, stats);
  p->bulk = p->nadd >= BULK_MIN && (rebuild || p->nadd >= total);
}

/* Plan from every note the index holds in scope sc. */
static int plan_all(cns *h, const scope *sc, const scan_list *files,
                    int rebuild, plan *p, cns_update_stats *stats) {
  known_list kn = {0};
  int rc = load_known(h->db, sc, &kn);
  if (rc == SQLITE_OK) plan_with(files, &kn, kn.n, rebuild, p, stats);
  known_free(&kn);
  return rc == SQLITE_OK ? CNS_OK : cns_dberr(h, "read the index");
}

/* ---- which folders changed ------------------------------------------ */

/* The folders whose notes differ between the walk and the index: those
** whose brief (scan_dir; table folder) differs or is on one side only. */
typedef struct changed {
  scan_dir *v;       /* the index's folder briefs (paths owned) */
  size_t n, cap;
  const char **dirs; /* the changed folders, sorted (paths borrowed) */
  size_t ndirs;
  size_t total;      /* notes the index holds */
  size_t notes;      /* notes in changed folders, the larger side's */
} changed;

static void changed_free(changed *c) {
  for (size_t i = 0; i < c->n; i++) free(c->v[i].path);
  free(c->v);
  free(c->dirs);
}

static int load_folders(sqlite3 *db, changed *c) {
  sqlite3_stmt *st;
  int rc = sqlite3_prepare_v2(
      db, "SELECT path, notes, sum FROM folder ORDER BY path", -1, &st, NULL);
  if (rc != SQLITE_OK) return rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const char *path = (const char *)sqlite3_column_text(st, 0);
    if (!path) {
      rc = SQLITE_NOMEM;
      break;
    }
    if (c->n == c->cap) {
      c->cap = c->cap ? c->cap * 2 : 64;
      c->v = cns_xrealloc(c->v, c->cap * sizeof *c->v);
    }
    c->v[c->n++] = (scan_dir){cns_xstrdup(path), sqlite3_column_int64(st, 1),
                              (uint64_t)sqlite3_column_int64(st, 2)};
    c->total += (size_t)sqlite3_column_int64(st, 1);
  }
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Merge the index's folders (sorted by SQLite, BINARY = strcmp) with the
** walk's (sorted by scan_root()). */
static void find_changed(const scan_list *files, changed *c) {
  size_t i = 0, j = 0;
  c->dirs = cns_xmalloc((c->n + files->ndirs + 1) * sizeof *c->dirs);
  while (i < files->ndirs || j < c->n) {
    const scan_dir *w = i < files->ndirs ? &files->dirs[i] : NULL;
    const scan_dir *x = j < c->n ? &c->v[j] : NULL;
    int cmp = !w ? 1 : !x ? -1 : strcmp(w->path, x->path);
    if (cmp == 0 && w->notes == x->notes && w->sum == x->sum) {
      i++, j++;
      continue;
    }
    long long n = cmp < 0 ? w->notes : cmp > 0 ? x->notes
                  : w->notes > x->notes ? w->notes : x->notes;
    c->dirs[c->ndirs++] = cmp <= 0 ? w->path : x->path;
    c->notes += (size_t)n;
    if (cmp <= 0) i++;
    if (cmp >= 0) j++;
  }
}

/* The first and last+1 index of the notes in files under the folder dir
** (of length n): the walk's list is sorted, so they sit together. */
static void under(const scan_list *files, const char *dir, size_t n,
                  size_t *from, size_t *to) {
  size_t lo = 0, hi = files->n;
  while (lo < hi) { /* the first path >= dir + "/" */
    size_t mid = lo + (hi - lo) / 2;
    const char *p = files->v[mid].path;
    int c = strncmp(p, dir, n);
    if (c < 0 || (c == 0 && (unsigned char)p[n] < '/')) lo = mid + 1;
    else hi = mid;
  }
  *from = lo;
  while (lo < files->n && strncmp(files->v[lo].path, dir, n) == 0 &&
         files->v[lo].path[n] == '/')
    lo++;
  *to = lo;
}

/* The walk's notes directly in the changed folders, sorted (shallow
** copies: the paths stay the walk's); the caller frees the array. */
static scan_entry *view_of(const scan_list *files, const changed *c,
                           size_t *nv) {
  scan_entry *v = cns_xmalloc((c->notes + 1) * sizeof *v);
  size_t n = 0;
  for (size_t d = 0; d < c->ndirs; d++) {
    size_t len = strlen(c->dirs[d]), from = 0, to = files->n;
    if (len) under(files, c->dirs[d], len, &from, &to);
    for (size_t i = from; i < to; i++)
      if (scan_dir_len(files->v[i].path) == len) v[n++] = files->v[i];
  }
  if (n > 1) qsort(v, n, sizeof *v, scan_by_path);
  *nv = n;
  return v;
}

/* The index's notes directly in the changed folders. */
static int known_of(sqlite3 *db, const changed *c, known_list *kn) {
  int rc = SQLITE_OK;
  for (size_t d = 0; d < c->ndirs && rc == SQLITE_OK; d++) {
    size_t len = strlen(c->dirs[d]);
    rc = len ? add_known(db, known_sql[2], c->dirs[d], &len, kn)
             : add_known(db, known_sql[0], NULL, &len, kn);
  }
  sort_known(kn);
  return rc;
}

/* Plan a full update from the folders that changed alone: their notes in
** the walk against theirs in the index.  When a quarter of the notes
** may have changed, reading them all costs less than picking them. */
static int plan_changed(cns *h, const scan_list *files, plan *p,
                        cns_update_stats *stats) {
  changed c = {0};
  known_list kn = {0};
  scope all = {NULL, 0};
  int rc = load_folders(h->db, &c);
  if (rc == SQLITE_OK) find_changed(files, &c);
  if (rc == SQLITE_OK && c.notes * 4 > c.total) {
    changed_free(&c);
    return plan_all(h, &all, files, 0, p, stats);
  }
  if (rc == SQLITE_OK) rc = known_of(h->db, &c, &kn);
  if (rc == SQLITE_OK) {
    size_t nv;
    scan_entry *v = view_of(files, &c, &nv);
    scan_list view = {.v = v, .n = nv, .cap = nv};
    plan_with(&view, &kn, c.total, 0, p, stats);
    p->view = v;
  }
  known_free(&kn);
  changed_free(&c);
  return rc == SQLITE_OK ? CNS_OK : cns_dberr(h, "read the index");
}

/* Plan against what the index holds now. */
static int plan_update(cns *h, const scope *sc, const scan_list *files,
                       int rebuild, plan *p, cns_update_stats *stats) {
  if (sc->paths || rebuild) return plan_all(h, sc, files, rebuild, p, stats);
  return plan_changed(h, files, p, stats);
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

/* A watcher killed outright leaves FTS5's automatic merges off
** (store_automerge()); an update in a process of its own finds them so
** with no watcher running and turns them back on, in its transaction. */
static int mend_automerge(cns *h) {
  if (h->watching || h->fresh_path || !store_automerge_off(h->db) ||
      cns_watcher_running(h))
    return CNS_OK;
  return store_automerge(h->db, 1) == SQLITE_OK
             ? CNS_OK
             : cns_dberr(h, "turn the index's merges back on");
}

static int write_plan(cns *h, const scope *sc, const scan_list *files,
                      int rebuild, plan *p, cns_update_stats *stats,
                      cns_progress_fn progress, void *arg) {
  store *st;
  if (store_open(h->db, &st, &h->err) != CNS_OK)
    return cns_dberr(h, "prepare the index update");
  int rc = store_begin(st, &h->err);
  if (rc) rc = cns_dberr(h, "start the index update");
  if (!rc) rc = mend_automerge(h);
  if (!rc) rc = replan(h, sc, files, rebuild, p, stats);
  if (!rc) rc = apply_plan(h, st, p, rebuild, stats, progress, arg);
  if (!rc && store_commit(st, &h->err) != CNS_OK)
    rc = cns_dberr(h, "commit the index update");
  if (rc) store_rollback(st);
  store_close(st);
  if (h->fresh_path) { /* a new index (db.c): in place once it has notes */
    if (rc) h->fresh_bad = 1;
    else rc = db_publish(h);
  }
  if (rc && h->interrupted) rc = cns_seterr(h, CNS_EINTR, "interrupted; "
                                            "the index is as it was");
  return rc;
}

/* Drop repeated paths from a sorted list. */
static void unique_files(scan_list *l) {
  size_t k = 0;
  for (size_t i = 0; i < l->n; i++) {
    if (!k || strcmp(l->v[k - 1].path, l->v[i].path) != 0)
      l->v[k++] = l->v[i];
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

/* Walk, then plan.  The first plan takes no lock: an update with nothing
** to do writes nothing. */
static int first_plan(cns *h, const scope *sc, scan_list *files, int rebuild,
                      plan *p, cns_update_stats *stats) {
  long long version = 0;
  if (data_version(h->db, &version) != SQLITE_OK)
    return cns_dberr(h, "read the index");
  int rc = scan_scope(h, sc, files, stats);
  if (!rc) rc = plan_update(h, sc, files, rebuild, p, stats);
  p->version = version;
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
