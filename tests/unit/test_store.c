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
*/
#include <stdlib.h>
#include <string.h>
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
  if (!rc) rc = id > 0 ? store_delete_note(st, id, &err) : CNS_EDB;
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

int main(void) {
  buf err = BUF_INIT;
  db = check_open_index_db(":memory:");
  CHECK_INT(store_schema(db, &err), CNS_OK);
  test_one_segment();
  sqlite3_close(db);
  buf_free(&err);
  return check_done("test_store");
}
