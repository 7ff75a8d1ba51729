/*
** test_store.c -- an update writes one FTS5 segment per table.
**
** The FTS5 of the SQLite cnsearch builds on writes its in-memory terms
** out as a new segment at every statement savepoint, which a multi-row
** statement (INSERT ... SELECT) opens.  store.c therefore gives FTS5 its
** deletes and the regex index its rows through single-row statements
** (fts_delete, put_row), so that re-indexing a note leaves one new
** segment in note_fts, and one in note_tri, not one for the delete and
** another for the insert.  A segment too many is no wrong answer, only
** a slower update and merges later, so nothing else would notice it
** coming back.  The count is read from FTS5's own structure record.
**
** FTS5 also starts a segment whenever a row id is not above the last one
** it was given, so an update deletes old versions in id order
** (store_delete_notes); test_update_order checks that through the
** library's own update, and test_page_batch for a batch of fetched pages
** (store_put_pages).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>
#include "cnsint.h"
#include "check.h"

static sqlite3 *db;

/* An SQLite varint at p (FTS5's structure record uses them). */
static unsigned long long varint(const unsigned char **p) {
  unsigned long long v = 0;
  for (int i = 0; i < 9; i++) {
    unsigned char c = *(*p)++;
    if (i == 8) return v << 8 | c;
    v = v << 7 | (c & 0x7f);
    if (!(c & 0x80)) break;
  }
  return v;
}

/* Segments in FTS5 table t: the structure record (rowid 10 of t_data) is
** a 4-byte cookie, then the number of levels and of segments.  -1 when
** it cannot be read. */
static int segments(const char *t) {
  char sql[128];
  snprintf(sql, sizeof sql, "SELECT block FROM %s_data WHERE id = 10", t);
  sqlite3_stmt *st;
  int n = -1;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) >= 6) {
    const unsigned char *p = sqlite3_column_blob(st, 0);
    p += 4;
    (void)varint(&p); /* levels */
    n = (int)varint(&p);
  }
  sqlite3_finalize(st);
  return n;
}

static int put(store *st, const char *path, const char *text) {
  buf err = BUF_INIT;
  md_note md;
  int rc = md_note_parse(text, strlen(text), path, &md);
  if (rc == CNS_OK)
    rc = store_put_note(st, path, (long long)strlen(text), 1, text,
                        strlen(text), &md, &err);
  md_note_free(&md);
  buf_free(&err);
  return rc;
}

/* Re-index note `path` with new text in one transaction, as an update
** does: delete, then add. */
static int reindex(const char *path, const char *text) {
  buf err = BUF_INIT;
  store *st = NULL;
  int rc = store_open(db, &st, &err);
  if (!rc) rc = store_begin(st, &err);
  long long id = -1;
  sqlite3_stmt *q;
  if (!rc && sqlite3_prepare_v2(db, "SELECT id FROM note WHERE path = ?", -1,
                                &q, NULL) == SQLITE_OK) {
    sqlite3_bind_text(q, 1, path, -1, SQLITE_STATIC);
    if (sqlite3_step(q) == SQLITE_ROW) id = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
  }
  if (!rc) rc = id > 0 ? store_delete_notes(st, &id, 1, &err) : CNS_EDB;
  if (!rc) rc = put(st, path, text);
  if (!rc) rc = store_commit(st, &err);
  if (rc) store_rollback(st);
  store_close(st);
  buf_free(&err);
  return rc;
}

static void test_one_segment(void) {
  buf err = BUF_INIT;
  store *st = NULL;
  CHECK_INT(store_open(db, &st, &err), CNS_OK);
  CHECK_INT(store_begin(st, &err), CNS_OK);
  CHECK_INT(put(st, "a.md", "# Alpha\n\nmixture of experts, routing\n"),
            CNS_OK);
  CHECK_INT(put(st, "b.md", "# Beta\n\n[paper](https://ex.org/moe) gating\n"),
            CNS_OK);
  CHECK_INT(store_commit(st, &err), CNS_OK);
  store_close(st);
  CHECK_INT(segments("note_fts"), 1);

  CHECK_INT(reindex("a.md", "# Alpha\n\nmixture of experts, top-2 routing\n"),
            CNS_OK);
  CHECK_INT(segments("note_fts"), 2);

  /* with the regex index built, its update is one segment too */
  CHECK_INT(store_trigram_build(db, &err), CNS_OK);
  int tri = segments("note_tri");
  CHECK(tri >= 1);
  CHECK_INT(reindex("b.md", "# Beta\n\n[paper](https://ex.org/moe) top-k\n"),
            CNS_OK);
  CHECK_INT(segments("note_fts"), 3);
  CHECK_INT(segments("note_tri"), tri + 1);

  /* and the index is still what the notes say */
  CHECK_INT(store_check(db, &err), CNS_OK);
  if (err.len) fprintf(stderr, "  %s\n", err.p);
  buf_free(&err);
}

/* Write note i of the folder, its text depending on round. */
static void write_note(const char *dir, int i, int round) {
  char path[512];
  snprintf(path, sizeof path, "%s/n%02d.md", dir, i);
  FILE *f = fopen(path, "w");
  CHECK(f != NULL);
  if (!f) return;
  fprintf(f, "# Note %d\n\nround %d of gating and routing", i, round);
  for (int k = 0; k < round; k++) fputs(" again", f);
  fputs("\n", f);
  fclose(f);
}

/* A folder of n notes (write_note's first round) in /tmp, its path in
** dir (a mkdtemp() template), indexed; the index's path in *index.  The
** caller ends it with folder_end(). */
static cns *folder_start(char *dir, int n, char **index) {
  cns *h = NULL;
  *index = NULL;
  CHECK(mkdtemp(dir) != NULL);
  *index = cns_xasprintf("%s/index.db", dir);
  for (int i = 0; i < n; i++) write_note(dir, i, 1);
  CHECK_INT(cns_open(dir, *index, CNS_OPEN_CREATE, &h, NULL), CNS_OK);
  if (h) CHECK_INT(cns_update(h, 0, NULL, NULL, NULL), CNS_OK);
  return h;
}

static void folder_end(cns *h, const char *dir, char *index) {
  cns_close(h);
  char *rm = cns_xasprintf("rm -rf '%s'", dir);
  CHECK_INT(system(rm), 0);
  free(rm);
  free(index);
}

/* An update that changes many notes deletes their old versions in row id
** order (store_delete_notes): the plan lists them by path, and once notes
** have been re-indexed one by one their ids no longer follow their
** paths.  FTS5 starts a new segment whenever a row id is not above the
** last one, so out of order each step down was a segment.  With FTS5's merging turned
** off, the segments an update adds are the ones it wrote. */
static void test_update_order(void) {
  char dir[] = "/tmp/cns-test-store-XXXXXX", *index;
  cns_update_stats stats;
  cns *h = folder_start(dir, 30, &index);
  if (!h) return;
  /* re-index them one at a time, last path first: ids now fall as paths
  ** rise */
  for (int i = 29; i >= 0; i--) {
    char name[16];
    const char *paths[1] = {name};
    snprintf(name, sizeof name, "n%02d.md", i);
    write_note(dir, i, 2);
    CHECK_INT(cns_update_paths(h, paths, 1, &stats), CNS_OK);
  }
  cns_close(h); /* a fresh connection, as a new cnsearch process has */
  h = NULL;
  CHECK_INT(cns_open(dir, index, 0, &h, NULL), CNS_OK);
  if (!h) return;
  sqlite3 *side = check_open_index_db(index);
  CHECK_INT(sqlite3_exec(side, "INSERT INTO note_fts(note_fts, rank) "
                               "VALUES('automerge', 0)",
                         NULL, NULL, NULL),
            SQLITE_OK);
  sqlite3 *keep = db;
  db = side;
  int before = segments("note_fts");
  /* every note, n00 too, whose id is the highest: SQLite would give the
  ** first new note that id again once it is deleted, a step down that
  ** costs a segment; the store gives ids above the highest one the
  ** update began with (next_id()) */
  for (int i = 0; i < 30; i++) write_note(dir, i, 3);
  CHECK_INT(cns_update(h, 0, &stats, NULL, NULL), CNS_OK);
  CHECK_INT(stats.changed, 30);
  CHECK(before > 0);
  CHECK_INT(segments("note_fts"), before + 1);
  db = keep;
  sqlite3_close(side);
  folder_end(h, dir, index);
}

/* Write pages 0..n-1 of round r in one transaction; every third page of
** an odd round has no text (a failed fetch), so rows go in and out of
** page_fts as well as change in it. */
static int put_pages(int n, int round) {
  buf err = BUF_INIT;
  store *st = NULL;
  store_page *pg = cns_xcalloc((size_t)n, sizeof *pg);
  char (*url)[64] = cns_xcalloc((size_t)n, sizeof *url);
  char (*body)[64] = cns_xcalloc((size_t)n, sizeof *body);
  for (int i = 0; i < n; i++) {
    int k = round % 2 ? n - 1 - i : i; /* odd rounds go backwards */
    snprintf(url[i], sizeof url[i], "https://ex.org/p%02d", k);
    snprintf(body[i], sizeof body[i], "page %d says round%d", k, round);
    int text = !(round % 2 && k % 3 == 0);
    pg[i] = (store_page){.url = url[i], .status = text ? 200 : 404,
                         .title = "Page", .body = text ? body[i] : NULL,
                         .fetched = round, .error = text ? NULL : "gone"};
  }
  int rc = store_open(db, &st, &err);
  if (!rc) rc = store_begin(st, &err);
  if (!rc) rc = store_put_pages(st, pg, (size_t)n, &err);
  if (!rc) rc = store_commit(st, &err);
  if (rc) fprintf(stderr, "  put_pages: %s\n", buf_str(&err));
  store_close(st);
  free(pg);
  free(url);
  free(body);
  buf_free(&err);
  return rc;
}

/* A batch of fetched pages replaces its old versions first, in id order,
** and then writes the new ones (store_put_pages): page by page, each
** replacement stepped FTS5's row id down and cost a segment. */
static void test_page_batch(void) {
  CHECK_INT(sqlite3_exec(db, "INSERT INTO page_fts(page_fts, rank) "
                             "VALUES('automerge', 0)",
                         NULL, NULL, NULL),
            SQLITE_OK);
  CHECK_INT(put_pages(12, 0), CNS_OK);
  int before = segments("page_fts");
  CHECK_INT(before, 1);
  for (int round = 1; round <= 3; round++) {
    CHECK_INT(put_pages(12, round), CNS_OK);
    CHECK_INT(segments("page_fts"), before + round);
  }
  /* and page_fts holds the last round's text only */
  CHECK_INT(check_sql_int(db, "SELECT count(*) FROM page"), 12);
  CHECK_INT(check_sql_int(db, "SELECT count(*) FROM page_fts "
                              "WHERE page_fts MATCH 'round3'"),
            8);
  CHECK_INT(check_sql_int(db, "SELECT count(*) FROM page_fts WHERE "
                              "page_fts MATCH 'round2 OR round1 OR round0'"),
            0);
  CHECK_INT(sqlite3_exec(db, "INSERT INTO page_fts(page_fts) "
                             "VALUES('integrity-check')",
                         NULL, NULL, NULL),
            SQLITE_OK);
}

/* Once interrupted, whatever fails is the interrupt: sqlite3_interrupt()
** can fail a statement prepared as the signal comes with "vtable
** constructor failed", which the user must not see as a damaged index
** (exit 2) instead of an interrupt (exit 130). */
static void test_interrupted_error(void) {
  char dir[] = "/tmp/cns-test-store-XXXXXX", *index;
  cns *h = folder_start(dir, 3, &index);
  if (!h) return;
  /* a failure the connection reports, first as itself */
  sqlite3_stmt *st = NULL;
  CHECK(sqlite3_prepare_v2(h->db, "SELECT nosuchcolumn FROM note", -1, &st,
                           NULL) != SQLITE_OK);
  CHECK(cns_dberr(h, "read the index") != CNS_EINTR);
  cns_interrupt(h);
  CHECK_INT(cns_dberr(h, "prepare the index update"), CNS_EINTR);
  CHECK_STR(cns_errmsg(h), "interrupted");
  folder_end(h, dir, index);
}

/* An update that leaves more than a sixteenth of the file free gives
** back up to TRIM_PAGES of it after its commit (store_commit): 2 MB of
** free pages (a table made and dropped, as a merge of FTS5 segments
** frees them) shrink at each update that writes, until a sixteenth or
** less is left. */
static void test_trim(void) {
  char dir[] = "/tmp/cns-test-store-XXXXXX", *index;
  cns_update_stats stats;
  cns *h = folder_start(dir, 20, &index);
  if (!h) return;
  CHECK_INT(check_sql_int(h->db, "PRAGMA auto_vacuum"), 2);
  CHECK_INT(sqlite3_exec(h->db,
                         "CREATE TABLE junk(b);"
                         "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL "
                         "SELECT i + 1 FROM n WHERE i < 256) "
                         "INSERT INTO junk SELECT randomblob(8000) FROM n;"
                         "DROP TABLE junk;",
                         NULL, NULL, NULL),
            SQLITE_OK);
  int nfree = check_sql_int(h->db, "PRAGMA freelist_count"), rounds = 0;
  CHECK(nfree >= 256);
  /* each update changes a note, commits, and gives back pages */
  while (nfree * 16 > check_sql_int(h->db, "PRAGMA page_count") &&
         rounds < 10) {
    write_note(dir, rounds, 2 + rounds);
    CHECK_INT(cns_update(h, 0, &stats, NULL, NULL), CNS_OK);
    int now = check_sql_int(h->db, "PRAGMA freelist_count");
    CHECK(now <= nfree - 64);
    nfree = now;
    rounds++;
  }
  CHECK(rounds >= 2); /* 128 pages at a time, not all at once */
  CHECK(nfree * 16 <= check_sql_int(h->db, "PRAGMA page_count"));
  buf err = BUF_INIT;
  CHECK_INT(store_check(h->db, &err), CNS_OK);
  if (err.len) fprintf(stderr, "  %s\n", err.p);
  buf_free(&err);
  folder_end(h, dir, index);
}

int main(void) {
  buf err = BUF_INIT;
  db = check_open_index_db(":memory:");
  CHECK_INT(store_schema(db, &err), CNS_OK);
  test_one_segment();
  test_update_order();
  test_page_batch();
  test_interrupted_error();
  test_trim();
  sqlite3_close(db);
  buf_free(&err);
  return check_done("test_store");
}
