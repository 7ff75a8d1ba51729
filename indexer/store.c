/*
** store.c -- the index schema and every write to it.
**
** The index is a cache of the notes folder; nothing in it is the only
** copy of anything.  Its schema:
**
**   note(id, path UNIQUE, size, mtime, title, date, tags)
**       One row per note file.  size+mtime (ns) are the file state the row
**       was built from.  The rows are small on purpose: ranking joins
**       every matching note to its row, and a row that carried its text
**       would make that a read of most of the file.
**   body(note PRIMARY KEY, len, z)
**       The note's len bytes as read, compressed (zip.c), against the
**       dictionary in meta('zdict') when the index has one.
**   VIEW note_doc(id, title, heading, link, body)
**       What FTS5 and the readers see: body unpacked, heading every
**       section's heading and link every link's text and URL, one per
**       line, rebuilt from the section and link rows (in their order)
**       rather than stored a second time.  store_doc_make() gives FTS5
**       exactly these strings (join_fields), so a delete re-supplies what
**       was inserted.  The order rests on group_concat() over a subquery
**       with ORDER BY, which SQLite keeps for that very use (its test
**       tkt2942).  `cnsearch check` indexes note_doc afresh and compares
**       the two indexes token by token, positions included (check_copy),
**       which sees any row indexed from other text or with other tokens
**       (an insert takes its tokens from the feed's tape, tok.c).
**   section(id, note, ord, off, len, line, heading)
**       The note cut at its top-level headings: body[off, off+len) starts
**       on line `line`.  Sections tile the body exactly.
**   link(id, note, section, off, line, col, kind, text, url, title,
**        target, thash)
**       Every link, image and wiki link, at its exact position.  target
**       is what the link points at, worked out from the URL alone by
**       links.c (links_target): a root-relative path for a local link
**       ("../papers/fsdp.md#x" in "notes/a.md" -> "papers/fsdp.md"), the
**       URL less its #fragment for http(s), the page name for a wiki
**       link; NULL when it leads nowhere (outside the root, mailto:...).
**       url is NULL when it equals target (most web links): the URL as
**       written is coalesce(url, target); so is text (a bare URL, a wiki
**       link): the link's text is coalesce(text, target).
**       Whether a note of that path or title exists is asked at query
**       time, so a note created later is linked without re-indexing.
**       thash is a 32-bit hash of target (links_target_hash), and the
**       index link_by_target is on it, not on the target: 4 bytes a link
**       instead of 50.  Every lookup compares the target itself too.
**   note_fts USING fts5(title, heading, link, body, content='note_doc')
**       The word index, one row per note (so "all words" means all words
**       in the note, wherever they are), tokenized by tok.c's "cns".  It
**       is an external-content table: the text lives once, in note, and
**       deleting a row re-supplies the old values from note_doc, so
**       the two can never disagree.
**   note_tri USING fts5(body, content='note_tri_doc', tokenize='cnstri',
**                       detail='none')
**       Every three-character sequence of letters and digits of every
**       note, without positions (tri.c's cnstri: FTS5's trigram, each
**       trigram of a note once, none with a space or punctuation):
**       regex search asks it for the notes holding all the trigrams of
**       the literals a pattern requires, and runs PCRE2 on those alone.
**       It costs as much to build as the word index, so it is built on
**       the first regex search (store_trigram_build) and kept up to date
**       from then on; meta('trigram') = 1 says it is complete.  Its
**       content, the view note_tri_doc, shows NUL bytes and bytes that are
**       not UTF-8 as spaces: the trigram tokenizer reads those unlike
**       PCRE2, and a prefilter must never miss (zip.c).
**   meta(key PRIMARY KEY, value)
**       Facts about the index itself: 'trigram' (above) and 'zdict', the
**       bodies' compression dictionary, made by a bulk load into an
**       empty index (store_new_dict) and read by every reader (zip.c).
**   folder(path PRIMARY KEY, notes, sum)
**       Each folder's notes in brief: how many lie directly in it and the
**       XOR of their scan_note_hash(path, size, mtime).  Written with every
**       note row (folder_count), so it is always what the note rows say;
**       an update compares it with the walk's and reads the notes of the
**       folders that differ only (index.c).  `cnsearch check` counts it
**       afresh from the notes and compares (check_folders).
**   page(id, url UNIQUE, final_url, status, content_type, title,
**        heading, link, body, fetched, etag, last_modified, error)
**       The text behind the links (fetch.c): one row per http(s) URL or
**       local non-note text file (url is then the root-relative path),
**       keyed so that page.url = link.target joins a page to every link
**       to it.  body is NULL when there is no text (a failure, an image);
**       error is NULL unless the last attempt failed.  Written in batches
**       outside note updates, so a fetch never holds the index for long.
**   page_fts USING fts5(title, heading, link, body, content='page')
**       The pages' word index, with note_fts's columns (link is always
**       empty) so that one MATCH expression runs on both.  Only rows with
**       a body are in it; a row leaves it with its old values, like
**       note_fts.
**
** Every update runs in one IMMEDIATE transaction (index.c) in WAL mode:
** readers see the old index or the new one, and a crash at any moment
** leaves the last committed state.  A new index is the exception: no
** reader can see it until its first update has committed, so it is
** built aside without a WAL and renamed into place (db.c).  PRAGMA
** user_version holds STORE_SCHEMA_VERSION; db.c rebuilds an index made
** by another version.
*/
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cnsint.h"

/* A page row no link leads to (through link_by_target). */
#define NO_LINK_TO_PAGE                                                  \
  "NOT EXISTS (SELECT 1 FROM link k WHERE k.thash = cns_thash(page.url) " \
  "AND k.target = page.url)"

/* Dropped for a bulk load and made again after it (store_bulk). */
#define LINK_BY_TARGET "CREATE INDEX link_by_target ON link(thash)"

static const char *schema_sql =
    "BEGIN;\n"
    "CREATE TABLE note(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  path TEXT NOT NULL UNIQUE,\n"
    "  size INTEGER NOT NULL,\n"
    "  mtime INTEGER NOT NULL,\n"
    "  title TEXT NOT NULL,\n"
    "  date TEXT,\n"
    "  tags TEXT\n"
    ");\n"
    "CREATE TABLE body(\n"
    "  note INTEGER PRIMARY KEY,\n"
    "  len INTEGER NOT NULL,\n"
    "  z BLOB NOT NULL\n"
    ");\n"
    "CREATE VIEW note_doc AS SELECT n.id AS id, n.title AS title,\n"
    "  coalesce((SELECT group_concat(h || char(10), '') FROM\n"
    "    (SELECT heading AS h FROM section WHERE note = n.id AND\n"
    "     heading != '' ORDER BY ord)), '') AS heading,\n"
    "  coalesce((SELECT group_concat(t || ' ' || u || char(10), '') FROM\n"
    "    (SELECT coalesce(text, target) AS t, coalesce(url, target) AS u\n"
    "     FROM link WHERE note = n.id ORDER BY id)), '') AS link,\n"
    "  unpack(b.z, b.len) AS body FROM note n JOIN body b ON b.note = n.id;\n"
    "CREATE VIEW note_tri_doc AS SELECT note AS id,\n"
    "  unpack(z, len, 1) AS body FROM body;\n"
    "CREATE TABLE section(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  note INTEGER NOT NULL,\n"
    "  ord INTEGER NOT NULL,\n"
    "  off INTEGER NOT NULL,\n"
    "  len INTEGER NOT NULL,\n"
    "  line INTEGER NOT NULL,\n"
    "  heading TEXT NOT NULL\n"
    ");\n"
    "CREATE INDEX section_by_note ON section(note, ord);\n"
    "CREATE TABLE link(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  note INTEGER NOT NULL,\n"
    "  section INTEGER NOT NULL,\n"
    "  off INTEGER NOT NULL,\n"
    "  line INTEGER NOT NULL,\n"
    "  col INTEGER NOT NULL,\n"
    "  kind INTEGER NOT NULL,\n"
    "  text TEXT,\n"
    "  url TEXT,\n"
    "  title TEXT,\n"
    "  target TEXT,\n"
    "  thash INTEGER\n"
    ");\n"
    "CREATE INDEX link_by_note ON link(note);\n"
    LINK_BY_TARGET ";\n"
    "CREATE VIRTUAL TABLE note_fts USING fts5(title, heading, link, body,\n"
    "  content='note_doc', content_rowid='id', tokenize='cns');\n"
    /* 32 MB of terms before a flush: far fewer segment merges */
    "INSERT INTO note_fts(note_fts, rank) VALUES('hashsize', 33554432);\n"
    "CREATE VIRTUAL TABLE note_tri USING fts5(body, content='note_tri_doc',\n"
    "  content_rowid='id', tokenize='cnstri', detail='none');\n"
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;\n"
    /* each folder's notes in brief (scan_dir): what an update compares */
    "CREATE TABLE folder(\n"
    "  path TEXT PRIMARY KEY,\n"
    "  notes INTEGER NOT NULL,\n"
    "  sum INTEGER NOT NULL\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE page(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  url TEXT NOT NULL UNIQUE,\n"
    "  final_url TEXT,\n"
    "  status INTEGER,\n"
    "  content_type TEXT,\n"
    "  title TEXT,\n"
    "  heading TEXT,\n"
    "  link TEXT,\n"
    "  body TEXT,\n"
    "  fetched INTEGER NOT NULL,\n"
    "  etag TEXT,\n"
    "  last_modified TEXT,\n"
    "  error TEXT\n"
    ");\n"
    "CREATE VIRTUAL TABLE page_fts USING fts5(title, heading, link, body,\n"
    "  content='page', content_rowid='id', tokenize='cns');\n"
    "PRAGMA user_version = " CNS_STR(STORE_SCHEMA_VERSION) ";\n"
    "COMMIT;\n";

int store_schema(sqlite3 *db, buf *err) {
  char *msg = NULL;
  if (sqlite3_exec(db, schema_sql, NULL, NULL, &msg) != SQLITE_OK) {
    buf_addf(err, "cannot create the index schema: %s", msg ? msg : "?");
    sqlite3_free(msg);
    if (!sqlite3_get_autocommit(db))
      sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return CNS_EDB;
  }
  return CNS_OK;
}

/* ---- the writer ----------------------------------------------------- */

/* Count a note in or out of its folder's brief in table t.  XOR, as
** (a | b) - (a & b), cannot overflow, where a sum would turn into a
** float. */
#define FOLDER_COUNT(t)                                                   \
  "INSERT INTO " t "(path, notes, sum) VALUES(?1, ?2, ?3) "               \
  "ON CONFLICT(path) DO UPDATE SET notes = notes + excluded.notes, "      \
  "sum = (sum | excluded.sum) - (sum & excluded.sum)"

enum {
  S_NOTE, S_BODY, S_FTS_ADD, S_TRI_ADD, S_SECTION, S_LINK, S_FTS_OLD,
  S_FTS_DEL, S_TRI_OLD, S_TRI_DEL, S_DEL_NOTE, S_DEL_BODY, S_DEL_SEC,
  S_DEL_LINK, S_FOLDER, S_FOLDER_GC, S_COUNT
};

static const char *stmt_sql[S_COUNT] = {
    "INSERT INTO note(path, size, mtime, title, date, tags, id) "
    "VALUES(?,?,?,?,?,?,?)",
    "INSERT INTO body(note, len, z) VALUES(?,?,?)",
    "INSERT INTO note_fts(rowid, title, heading, link, body) "
    "VALUES(?,?,?,?,?)",
    "INSERT INTO note_tri(rowid, body) VALUES(?, ?)",
    "INSERT INTO section(note, ord, off, len, line, heading) "
    "VALUES(?,?,?,?,?,?)",
    "INSERT INTO link(note, section, off, line, col, kind, text, url, title, "
    "target, thash) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
    "SELECT title, heading, link, body FROM note_doc WHERE id=?",
    "INSERT INTO note_fts(note_fts, rowid, title, heading, link, body) "
    "VALUES('delete', ?, ?, ?, ?, ?)",
    "SELECT body FROM note_tri_doc WHERE id=?",
    "INSERT INTO note_tri(note_tri, rowid, body) VALUES('delete', ?, ?)",
    "DELETE FROM note WHERE id=? RETURNING path, size, mtime",
    "DELETE FROM body WHERE note=?",
    "DELETE FROM section WHERE note=?",
    "DELETE FROM link WHERE note=?",
    FOLDER_COUNT("folder"),
    "DELETE FROM folder WHERE path=? AND notes=0",
};

enum { P_FIND, P_OLD, P_FTS_DEL, P_DEL, P_ADD, P_FTS_ADD, P_MARK,
       P_PRUNE_FTS, P_PRUNE, P_COUNT };

struct store {
  sqlite3 *db;
  int trigram;       /* note_tri is complete: keep it so (read in store_begin) */
  zip_ctx *zip;      /* store_put_note()'s, with the dictionary */
  zip_dict *dict;    /* bodies' dictionary (store_dict), or NULL */
  int dict_read;     /* meta('zdict') read in this transaction */
  tok_replay *replay; /* where a doc's tape is armed for its FTS5 insert */
  sqlite3_stmt *st[S_COUNT];
  sqlite3_stmt *pg[P_COUNT]; /* page writers, prepared on first use */
  long long note_top, page_top; /* the last ids given out (next_id()),
                                   read by store_begin() */
};

static int fail(store *s, buf *err, const char *what) {
  buf_addf(err, "cannot %s: %s", what, sqlite3_errmsg(s->db));
  return db_rc_to_cns(sqlite3_errcode(s->db));
}

int store_open(sqlite3 *db, store **out, buf *err) {
  *out = NULL;
  tok_replay *replay = tok_replay_of(db);
  if (!replay) {
    buf_adds(err, "cannot prepare the index writer: the cns tokenizer is "
                  "not registered");
    return CNS_EDB;
  }
  store *s = cns_xcalloc(1, sizeof *s);
  s->zip = zip_new(NULL);
  s->db = db;
  s->replay = replay;
  for (int i = 0; i < S_COUNT; i++) {
    if (sqlite3_prepare_v3(db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                           &s->st[i], NULL) != SQLITE_OK) {
      int rc = fail(s, err, "prepare the index writer");
      store_close(s);
      return rc;
    }
  }
  *out = s;
  return CNS_OK;
}

void store_close(store *s) {
  if (!s) return;
  for (int i = 0; i < S_COUNT; i++) sqlite3_finalize(s->st[i]);
  for (int i = 0; i < P_COUNT; i++) sqlite3_finalize(s->pg[i]);
  zip_free(s->zip);
  zip_dict_free(s->dict);
  free(s);
}

static int exec(store *s, const char *sql, buf *err, const char *what) {
  if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return fail(s, err, what);
  return CNS_OK;
}

int store_trigram_ready(sqlite3 *db) {
  sqlite3_stmt *st;
  int ready = 0;
  if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key='trigram'", -1,
                         &st, NULL) != SQLITE_OK)
    return 0;
  if (sqlite3_step(st) == SQLITE_ROW) ready = sqlite3_column_int(st, 0) == 1;
  sqlite3_finalize(st);
  return ready;
}

/* The highest ids in use, which a transaction reads before it deletes
** anything.  New notes and pages get ids above them (next_id()), not the
** highest id left plus one, as SQLite would give: once a write has
** deleted the row holding the highest id, that would hand FTS5 a row id
** at or below one it was just given, and FTS5 starts a new segment
** whenever the row id does not go up. */
static int read_tops(store *s, buf *err) {
  static const char *sql[2] = {"SELECT coalesce(max(id), 0) FROM note",
                               "SELECT coalesce(max(id), 0) FROM page"};
  long long *top[2] = {&s->note_top, &s->page_top};
  for (int i = 0; i < 2; i++) {
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db, sql[i], -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
      *top[i] = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW) return fail(s, err, "read the index");
  }
  return CNS_OK;
}

/* The id for a new note (which 0) or page (1).  Every write transaction
** starts in store_begin(), which read the tops. */
static long long next_id(store *s, int which) {
  return which ? ++s->page_top : ++s->note_top;
}

/* Read the trigram flag inside the write transaction: a regex search that
** builds note_tri commits before or after this update, never during. */
int store_begin(store *s, buf *err) {
  int rc = exec(s, "BEGIN IMMEDIATE", err, "start an index update");
  if (!rc) s->trigram = store_trigram_ready(s->db);
  s->dict_read = 0; /* another process may have made a new one */
  return rc ? rc : read_tops(s, err);
}

/* ---- the bodies' dictionary (zip.c) --------------------------------- */

/* Use d (owned) for the bodies from now on. */
static void use_dict(store *s, zip_dict *d) {
  zip_free(s->zip);
  zip_dict_free(s->dict);
  s->dict = d;
  s->zip = zip_new(d);
  s->dict_read = 1;
}

int store_dict(store *s, const zip_dict **out, buf *err) {
  *out = s->dict;
  if (s->dict_read) return CNS_OK;
  zip_dict *d; /* NULL for none, or none usable: plain frames */
  if (zip_dict_read(s->db, &d) != SQLITE_OK)
    return fail(s, err, "read the notes' dictionary");
  use_dict(s, d);
  *out = d;
  return CNS_OK;
}

/* One more than the last dictionary's id, within the ids zstd leaves
** free (32768 up); readers tell a new dictionary by it. */
static unsigned next_dict_id(const zip_dict *old) {
  unsigned id = old ? zip_dict_id(old) + 1 : 0;
  return id >= 32768 && id < 0x7fffffffu ? id : 32768;
}

int store_new_dict(store *s, const char *samples, const size_t *sizes,
                   unsigned n, buf *err) {
  sqlite3_stmt *st;
  int rc = sqlite3_prepare_v2(s->db, "SELECT NOT EXISTS (SELECT 1 FROM body)",
                              -1, &st, NULL);
  int empty = rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
              sqlite3_column_int(st, 0);
  rc = sqlite3_finalize(st);
  if (rc != SQLITE_OK) return fail(s, err, "read the index");
  if (!empty) return CNS_OK; /* bodies use the dictionary there is */
  const zip_dict *old;
  if ((rc = store_dict(s, &old, err)) != CNS_OK) return rc;
  zip_dict *d = zip_dict_make(samples, sizes, n, next_dict_id(old));
  if (!d) return CNS_OK;
  size_t len;
  const void *bytes = zip_dict_bytes(d, &len);
  rc = sqlite3_prepare_v2(s->db,
                          "INSERT OR REPLACE INTO meta VALUES('zdict', ?)", -1,
                          &st, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_bind_blob64(st, 1, bytes, len, SQLITE_STATIC);
    rc = sqlite3_step(st);
    rc = sqlite3_finalize(st) == SQLITE_OK && rc == SQLITE_DONE ? SQLITE_OK
                                                                : SQLITE_ERROR;
  }
  if (rc != SQLITE_OK) {
    zip_dict_free(d);
    return fail(s, err, "store the notes' dictionary");
  }
  use_dict(s, d);
  return CNS_OK;
}

int store_trigram_build(sqlite3 *db, buf *err) {
  char *msg = NULL;
  int rc = sqlite3_exec(db,
                        "BEGIN IMMEDIATE;"
                        "INSERT INTO note_tri(note_tri) VALUES('rebuild');"
                        "INSERT OR REPLACE INTO meta VALUES('trigram', 1);"
                        /* the merges of a build free pages (store_commit) */
                        "PRAGMA incremental_vacuum;"
                        "COMMIT;",
                        NULL, NULL, &msg);
  if (rc != SQLITE_OK) {
    buf_addf(err, "cannot build the regex index: %s", msg ? msg : "?");
    sqlite3_free(msg);
    if (!sqlite3_get_autocommit(db))
      sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return db_rc_to_cns(rc);
  }
  return CNS_OK;
}

/* A bulk load (a rebuild, a first index) writes faster with a bigger page
** cache (fewer pages spilled to the WAL and written again) and without
** link_by_target, whose random-order inserts cost more than sorting
** every link once at the end -- and leave a tighter index.  It ends with
** an FTS5 'optimize': the load leaves a few large segments on FTS5's
** lowest level, where the small segment of each later update joins them,
** and FTS5's automatic merges then rewrite them piece by piece over the
** following updates (ten one-note updates at 45 MB grew the file by 31
** MB of free pages).  Merged into one segment, the load sits on a level
** of its own.  The optimize runs before link_by_target is made, which
** takes some of the pages it frees; the index file is made with
** auto_vacuum=INCREMENTAL (db.c), and an incremental_vacuum then gives
** the rest back (at 200 MB, 34 MB: the file 412.8 -> 378.5 MB).  All of
** it runs inside the update's transaction, so a crash or an error leaves
** the index as it was. */
int store_bulk(store *s, int on, buf *err) {
  if (on)
    return exec(s, "PRAGMA cache_size=-16384; DROP INDEX link_by_target",
                err, "prepare a bulk update");
  return exec(s,
              "INSERT INTO note_fts(note_fts) VALUES('optimize');"
              LINK_BY_TARGET "; PRAGMA incremental_vacuum;"
              "PRAGMA cache_size=-2000",
              err, "index the links");
}

/* FTS5 merges its segments as updates add them, writing each merged
** segment before it frees the old ones, and the pages it frees stay in
** the file: SQLite reuses them, and with auto_vacuum=INCREMENTAL (db.c)
** gives them back only when asked.  The 33 one-note updates of the bench
** at 22 MB left 1,877 of 6,716 pages free (15 MB), the index at 2.4x the
** notes, most of them from one merge.  So when a commit leaves more than
** a sixteenth of the file free, a second transaction gives back up to
** TRIM_PAGES of it (1 MB of 8 KB pages): a bounded cost for that update,
** and the free space shrinks over the following ones.  It comes after
** the commit because FTS5 merges as it commits.  It is best effort: the
** notes are committed whatever it does, and a failed one (another
** writer holds the file: it does not wait; an interrupt) rolls back alone
** and is tried again by the next update.
** A bulk load gives back every free page (store_bulk()). */
#define TRIM_PAGES 128

static void trim(store *s) {
  sqlite3_stmt *st;
  long long nfree = 0, npages = 0;
  if (sqlite3_prepare_v2(s->db,
                         "SELECT * FROM pragma_freelist_count, "
                         "pragma_page_count",
                         -1, &st, NULL) != SQLITE_OK)
    return;
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    nfree = sqlite3_column_int64(st, 0);
    npages = sqlite3_column_int64(st, 1);
  }
  if (sqlite3_finalize(st) != SQLITE_OK || rc != SQLITE_ROW ||
      nfree * 16 <= npages)
    return;
  char sql[64];
  snprintf(sql, sizeof sql, "PRAGMA incremental_vacuum(%lld)",
           nfree < TRIM_PAGES ? nfree : TRIM_PAGES);
  /* best effort, and no waiting for another writer's lock */
  sqlite3_busy_timeout(s->db, 0);
  (void)sqlite3_exec(s->db, sql, NULL, NULL, NULL);
  sqlite3_busy_timeout(s->db, DB_BUSY_MS);
}

/* FTS5 merges the segments each update adds as part of the updates
** themselves: a commit that writes N leaf pages also does a share of
** merge work, N times the number of levels, on whatever merge is under
** way, until it is done.  At 45 MB one merge then ran over every other
** update of the largest note: 800 pages written instead of 135, and
** 75-146 ms instead of 30-40 under strace.
** store_merge() does that same work outside any update: FTS5's 'merge'
** command, `pages` leaf pages at a time, on merges under way and on
** levels that have as many segments as make an update start one (the
** 'usermerge' and 'automerge' settings, both FTS5's default of 4).  So
** the shape of the index is the one the updates would give it, reached
** sooner.  The watcher runs it between updates (indexer/watch.c): the
** largest note's update through it at 45 MB, 30 edits 0.3 s apart on
** copies of the same index, went from p50 36, p95 66, slowest 81 ms to
** 23, 26 and 29 ms.  It does not wait for another writer's lock.  1
** when it did some work, 0 when there was none to do, -1 when it could
** not (locked, an error): the next update's own merging is the fallback. */
/* The FTS5 tables, every one of which takes the commands below. */
static const char *const fts_table[] = {"note_fts", "note_tri", "page_fts"};
#define N_FTS_TABLES (sizeof fts_table / sizeof *fts_table)

/* FTS5's special INSERT: command cmd with argument n on table t. */
static int fts_command(sqlite3 *db, const char *t, const char *cmd, int n) {
  char sql[128];
  snprintf(sql, sizeof sql, "INSERT INTO %s(%s, rank) VALUES('%s', %d)", t,
           t, cmd, n);
  return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

int store_merge(sqlite3 *db, int pages) {
  int worked = 0, rc = SQLITE_OK;
  sqlite3_busy_timeout(db, 0);
  for (size_t i = 0; i < N_FTS_TABLES && rc == SQLITE_OK; i++) {
    sqlite3_int64 before = sqlite3_total_changes64(db);
    rc = fts_command(db, fts_table[i], "merge", pages);
    /* FTS5 counts the command itself as one change, and work as more */
    if (rc == SQLITE_OK && sqlite3_total_changes64(db) - before >= 2)
      worked = 1;
  }
  sqlite3_busy_timeout(db, DB_BUSY_MS);
  return rc == SQLITE_OK ? worked : -1;
}

/* store_merge() does the merges a commit would go on with, but it cannot
** stop a commit from starting one: FTS5 merges a level in the commit
** that brings it to 'automerge' segments (4), and then goes on with that
** merge, a share in every later commit, until it is done -- 64 pages
** times the number of levels for each 64 the commit writes.  With the
** watcher's merges between updates, every fourth update of the largest
** note at 200 MB still wrote twice its own pages before its answer (an
** strace of 16 updates: 176-186 pages in most, 358-364 in every fourth)
** and took twice as long to answer (18-25 ms from its first write,
** against 8-13).  40 edits 0.3 s apart through a watcher, the same index
** with FTS5's 'automerge' at 4 and then at 0, twice over: p50 / p95 /
** slowest 31.6 / 48.1 / 48.1 and 29.5 / 32.9 / 46.2 ms against 28.8 /
** 32.6 / 37.7 and 29.5 / 31.2 / 32.0.  At 0 every commit wrote 174-180
** pages, and the merges came after the answers.  So while a watcher runs
** it alone merges: it sets 'automerge' to 0 in the three tables as it
** starts and back to FTS5's 4 as it ends.  The setting lives in the
** index (TABLE_config), so every connection follows it: a commit made by
** another process while the watcher runs merges nothing either.  A
** watcher killed outright leaves it at 0; an update in a process of its
** own that finds it so with no watcher running sets it back in the same
** transaction (index.c).  Meanwhile FTS5's 'crisismerge' still merges a
** level of 16 segments, so the index never fragments without bound. */
#define AUTOMERGE 4 /* FTS5's default */

int store_automerge(sqlite3 *db, int on) {
  int rc = sqlite3_exec(db, "SAVEPOINT automerge", NULL, NULL, NULL);
  for (size_t i = 0; i < N_FTS_TABLES && rc == SQLITE_OK; i++)
    rc = fts_command(db, fts_table[i], "automerge", on ? AUTOMERGE : 0);
  if (rc != SQLITE_OK) /* undo what did change; RELEASE ends it either way */
    (void)sqlite3_exec(db, "ROLLBACK TO automerge", NULL, NULL, NULL);
  int rc2 = sqlite3_exec(db, "RELEASE automerge", NULL, NULL, NULL);
  return rc != SQLITE_OK ? rc : rc2;
}

int store_automerge_off(sqlite3 *db) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db,
                         "SELECT v FROM note_fts_config WHERE k = 'automerge'",
                         -1, &st, NULL) != SQLITE_OK)
    return 0;
  int off = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 0;
  sqlite3_finalize(st);
  return off;
}

int store_commit(store *s, buf *err) {
  int rc = exec(s, "COMMIT", err, "commit the index update");
  if (!rc) trim(s);
  return rc;
}

void store_rollback(store *s) {
  if (!sqlite3_get_autocommit(s->db))
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Step a statement that returns no rows, then reset it. */
static int run(store *s, sqlite3_stmt *st, buf *err, const char *what) {
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  if (rc != SQLITE_DONE) return fail(s, err, what);
  return CNS_OK;
}

static void bind_text(sqlite3_stmt *st, int i, const char *t, size_t n) {
  if (t) sqlite3_bind_text64(st, i, t, n, SQLITE_STATIC, SQLITE_UTF8);
  else sqlite3_bind_null(st, i);
}

static void bind_str(sqlite3_stmt *st, int i, const char *t) {
  bind_text(st, i, t, t ? strlen(t) : 0);
}

/* The FTS "heading" and "link" columns: one line per section/link.  The
** view note_doc builds the same strings from the section and link rows;
** the two must agree byte for byte, or a delete would leave words behind
** (store_check compares the index with one built afresh from note_doc). */
static void join_fields(const md_note *md, buf *heads, buf *links) {
  for (size_t i = 0; i < md->nsections; i++) {
    if (!md->sections[i].heading[0]) continue;
    buf_adds(heads, md->sections[i].heading);
    buf_addc(heads, '\n');
  }
  for (size_t i = 0; i < md->nlinks; i++) {
    buf_adds(links, md->links[i].text);
    buf_addc(links, ' ');
    buf_adds(links, md->links[i].url);
    buf_addc(links, '\n');
  }
  buf_adds(heads, "");
  buf_adds(links, "");
}

/* Record, with tok, the tokens FTS5 will want for the four columns
** store_put_doc() gives note_fts (see tok.c, "Tapes").  A text that fails
** to record is left off the tape, and FTS5 tokenizes it itself. */
static void record_tokens(store_doc *d, tok_ctx *tok) {
  const char *title = d->md->title ? d->md->title : "";
  (void)tok_record(tok, title, strlen(title), &d->tape);
  (void)tok_record(tok, d->heads.p ? d->heads.p : "", d->heads.len, &d->tape);
  (void)tok_record(tok, d->links.p ? d->links.p : "", d->links.len, &d->tape);
  (void)tok_record(tok, d->text, d->len, &d->tape);
}

/* Everything about a note that takes no SQL: the costly part of a write
** (compression, and with tok its tokens), which index.c runs on its
** second thread. */
void store_doc_make(store_doc *d, zip_ctx *z, tok_ctx *tok, const char *path,
                    long long size, long long mtime, const char *text,
                    size_t len, const md_note *md) {
  memset(d, 0, sizeof *d);
  d->path = path;
  d->size = size;
  d->mtime = mtime;
  d->text = text;
  d->len = len;
  d->md = md;
  d->date = store_note_date(path, md->date);
  join_fields(md, &d->heads, &d->links);
  zip_pack(z, text, len, &d->z);
  d->targets = cns_xcalloc(md->nlinks + 1, sizeof *d->targets);
  for (size_t i = 0; i < md->nlinks; i++)
    d->targets[i] = links_target(path, md->links[i].kind, md->links[i].url);
  if (tok) record_tokens(d, tok);
}

void store_doc_free(store_doc *d) {
  if (d->targets)
    for (size_t i = 0; i < d->md->nlinks; i++) free(d->targets[i]);
  free(d->targets);
  free(d->date);
  buf_free(&d->heads);
  buf_free(&d->links);
  buf_free(&d->z);
  tok_tape_free(&d->tape);
  memset(d, 0, sizeof *d);
}

/* Count the note (path, size, mtime) in (delta 1) or out of (-1) its
** folder's brief. */
static int folder_count(store *s, const char *path, long long size,
                        long long mtime, int delta, buf *err) {
  sqlite3_stmt *st = s->st[S_FOLDER];
  size_t n = scan_dir_len(path);
  bind_text(st, 1, path, n);
  sqlite3_bind_int(st, 2, delta);
  sqlite3_bind_int64(st, 3, (sqlite3_int64)scan_note_hash(path, size, mtime));
  int rc = run(s, st, err, "count a note in its folder");
  if (rc || delta > 0) return rc;
  st = s->st[S_FOLDER_GC];
  bind_text(st, 1, path, n);
  return run(s, st, err, "count a note in its folder");
}

static int put_row(store *s, const store_doc *d, long long *idp, buf *err) {
  sqlite3_stmt *st = s->st[S_NOTE];
  bind_str(st, 1, d->path);
  sqlite3_bind_int64(st, 2, d->size);
  sqlite3_bind_int64(st, 3, d->mtime);
  bind_str(st, 4, d->md->title);
  bind_str(st, 5, d->date);
  bind_str(st, 6, d->md->tags);
  long long id = next_id(s, 0);
  sqlite3_bind_int64(st, 7, id);
  int rc = run(s, st, err, "store a note");
  if (rc) return rc;
  *idp = id;
  rc = folder_count(s, d->path, d->size, d->mtime, 1, err);
  if (rc) return rc;
  st = s->st[S_BODY];
  sqlite3_bind_int64(st, 1, id);
  sqlite3_bind_int64(st, 2, (long long)d->len);
  sqlite3_bind_blob64(st, 3, d->z.p ? d->z.p : "", d->z.len, SQLITE_STATIC);
  if ((rc = run(s, st, err, "store a note")) != CNS_OK) return rc;
  st = s->st[S_FTS_ADD];
  sqlite3_bind_int64(st, 1, id);
  bind_str(st, 2, d->md->title);
  bind_text(st, 3, d->heads.p, d->heads.len);
  bind_text(st, 4, d->links.p, d->links.len);
  bind_text(st, 5, d->text, d->len);
  tok_replay_arm(s->replay, &d->tape);
  rc = run(s, st, err, "index a note");
  tok_replay_arm(s->replay, NULL);
  if (rc || !s->trigram) return rc;
  /* the text as note_tri_doc will show it, bound (see fts_delete) */
  char *plain = cns_xmalloc(d->len + 1);
  memcpy(plain, d->text, d->len);
  zip_plain_for_trigrams(plain, d->len);
  st = s->st[S_TRI_ADD];
  sqlite3_bind_int64(st, 1, id);
  bind_text(st, 2, plain, d->len);
  rc = run(s, st, err, "index a note for regex search");
  free(plain);
  return rc;
}

static int put_sections(store *s, long long id, const md_note *md,
                        buf *err) {
  sqlite3_stmt *st = s->st[S_SECTION];
  int rc = CNS_OK;
  for (size_t i = 0; i < md->nsections && !rc; i++) {
    const md_section *sec = &md->sections[i];
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, (long long)i);
    sqlite3_bind_int64(st, 3, (long long)sec->off);
    sqlite3_bind_int64(st, 4, (long long)sec->len);
    sqlite3_bind_int64(st, 5, sec->line);
    bind_str(st, 6, sec->heading);
    rc = run(s, st, err, "store a section");
  }
  return rc;
}

static int put_links(store *s, long long id, const store_doc *d, buf *err) {
  sqlite3_stmt *st = s->st[S_LINK];
  int rc = CNS_OK;
  for (size_t i = 0; i < d->md->nlinks && !rc; i++) {
    const md_link *k = &d->md->links[i];
    const char *target = d->targets[i];
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, k->section);
    sqlite3_bind_int64(st, 3, (long long)k->off);
    sqlite3_bind_int64(st, 4, k->line);
    sqlite3_bind_int64(st, 5, k->col);
    sqlite3_bind_int(st, 6, k->kind);
    /* most URLs are their own target, and a bare URL is its own text too:
    ** each kept once (NULL text or url, see above) */
    bind_str(st, 7, target && strcmp(target, k->text) == 0 ? NULL : k->text);
    bind_str(st, 8, target && strcmp(target, k->url) == 0 ? NULL : k->url);
    bind_str(st, 9, k->title);
    bind_str(st, 10, target);
    if (target)
      sqlite3_bind_int(st, 11, links_target_hash(target, strlen(target)));
    else
      sqlite3_bind_null(st, 11);
    rc = run(s, st, err, "store a link");
  }
  return rc;
}

int store_put_doc(store *s, const store_doc *d, buf *err) {
  long long id = 0;
  int rc = put_row(s, d, &id, err);
  if (!rc) rc = put_sections(s, id, d->md, err);
  if (!rc) rc = put_links(s, id, d, err);
  return rc;
}

int store_put_note(store *s, const char *path, long long size,
                   long long mtime, const char *text, size_t len,
                   const md_note *md, buf *err) {
  store_doc d;
  const zip_dict *dict; /* s->zip compresses with it */
  int rc = store_dict(s, &dict, err);
  if (rc != CNS_OK) return rc;
  store_doc_make(&d, s->zip, NULL, path, size, mtime, text, len, md);
  rc = store_put_doc(s, &d, err);
  store_doc_free(&d);
  return rc;
}

int store_clear(store *s, buf *err) {
  const char *sql = s->trigram
      ? "INSERT INTO note_fts(note_fts) VALUES('delete-all');"
        "INSERT INTO note_tri(note_tri) VALUES('delete-all');"
        "DELETE FROM section; DELETE FROM link; DELETE FROM body;"
        "DELETE FROM note; DELETE FROM folder;"
      : "INSERT INTO note_fts(note_fts) VALUES('delete-all');"
        "DELETE FROM section; DELETE FROM link; DELETE FROM body;"
        "DELETE FROM note; DELETE FROM folder;";
  return exec(s, sql, err, "empty the index");
}

/* Delete the note row, and count it out of its folder. */
static int delete_row(store *s, long long id, buf *err) {
  sqlite3_stmt *st = s->st[S_DEL_NOTE];
  sqlite3_bind_int64(st, 1, id);
  int rc = sqlite3_step(st);
  char *path = NULL;
  long long size = 0, mtime = 0;
  if (rc == SQLITE_ROW) {
    const char *p = (const char *)sqlite3_column_text(st, 0);
    path = p ? cns_xstrdup(p) : NULL;
    size = sqlite3_column_int64(st, 1);
    mtime = sqlite3_column_int64(st, 2);
    rc = path ? sqlite3_step(st) : SQLITE_NOMEM;
  }
  sqlite3_reset(st);
  int ret = rc == SQLITE_DONE ? CNS_OK : fail(s, err, "remove a note");
  if (!ret && path) ret = folder_count(s, path, size, mtime, -1, err);
  free(path);
  return ret;
}

/* FTS5's 'delete' of row id, given the values it was indexed with as
** the statement old reads them (ncols columns) and passed to the
** single-row statement st; `what` names the work in messages.  Not
** INSERT ... SELECT: the FTS5 of the SQLite this builds on (3.40) writes
** its in-memory terms out as a new segment at every statement savepoint,
** and a multi-row statement opens one, so each delete cost a segment of
** its own and a merge later (a 180 KB note at 200 MB: `index NOTE` 18.6
** -> 14.3 ms), and a rebuild of an index with a regex index wrote a
** segment per note (put_row binds that insert's text for the same
** reason). */
static int fts_delete(store *s, sqlite3_stmt *old, sqlite3_stmt *st,
                      int ncols, long long id, const char *what, buf *err) {
  sqlite3_bind_int64(old, 1, id);
  int rc = sqlite3_step(old);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    rc = fail(s, err, what);
    sqlite3_reset(old);
    return rc;
  }
  int found = rc == SQLITE_ROW;
  if (found) { /* bound values are copies: old can be reset first */
    sqlite3_bind_int64(st, 1, id);
    for (int i = 0; i < ncols; i++)
      sqlite3_bind_value(st, i + 2, sqlite3_column_value(old, i));
  }
  sqlite3_reset(old);
  return found ? run(s, st, err, what) : CNS_OK;
}

static int delete_note(store *s, long long id, buf *err) {
  static const int order[] = {S_DEL_SEC, S_DEL_LINK, S_DEL_BODY};
  static const char what[] = "remove a note from the index";
  int rc = fts_delete(s, s->st[S_FTS_OLD], s->st[S_FTS_DEL], 4, id, what, err);
  if (!rc && s->trigram)
    rc = fts_delete(s, s->st[S_TRI_OLD], s->st[S_TRI_DEL], 1, id, what, err);
  for (size_t i = 0; i < sizeof order / sizeof *order && !rc; i++) {
    sqlite3_stmt *st = s->st[order[i]];
    sqlite3_bind_int64(st, 1, id);
    rc = run(s, st, err, "remove a note from the index");
  }
  return rc ? rc : delete_row(s, id, err);
}

int store_delete_notes(store *s, long long *ids, size_t n, buf *err) {
  if (n > 1) qsort(ids, n, sizeof *ids, cns_cmp_id);
  int rc = CNS_OK;
  for (size_t i = 0; i < n && !rc; i++) rc = delete_note(s, ids[i], err);
  return rc;
}

/* ---- pages ---------------------------------------------------------- */

/* A page is replaced whole (delete, then insert): nothing refers to
** page.id, pages are joined by url, so a new id costs nothing and keeps
** this to one code path.  page_fts only holds rows with a body. */
static const char *page_sql[P_COUNT] = {
    "SELECT id FROM page WHERE url=?",
    "SELECT title, heading, link, body FROM page "
    "WHERE id=? AND body IS NOT NULL",
    "INSERT INTO page_fts(page_fts, rowid, title, heading, link, body) "
    "VALUES('delete', ?, ?, ?, ?, ?)",
    "DELETE FROM page WHERE id=?",
    "INSERT INTO page(url, final_url, status, content_type, title, heading, "
    "link, body, fetched, etag, last_modified, error, id) "
    "VALUES(?,?,?,?,?,?,'',?,?,?,?,?,?)",
    "INSERT INTO page_fts(rowid, title, heading, link, body) "
    "VALUES(?,?,?,'',?)",
    "UPDATE page SET status=coalesce(?2, status), error=?3, fetched=?4 "
    "WHERE url=?1",
    "INSERT INTO page_fts(page_fts, rowid, title, heading, link, body) "
    "SELECT 'delete', id, title, heading, link, body FROM page "
    "WHERE body IS NOT NULL AND " NO_LINK_TO_PAGE,
    "DELETE FROM page WHERE " NO_LINK_TO_PAGE,
};

static sqlite3_stmt *page_stmt(store *s, int i, buf *err, int *rc) {
  if (!s->pg[i] &&
      sqlite3_prepare_v3(s->db, page_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                         &s->pg[i], NULL) != SQLITE_OK) {
    *rc = fail(s, err, "prepare the page writer");
    return NULL;
  }
  return s->pg[i];
}

/* The id stored under url, appended to ids[*n] if there is one. */
static int find_page(store *s, const char *url, long long *ids, size_t *n,
                     buf *err) {
  int rc = CNS_OK;
  sqlite3_stmt *st = page_stmt(s, P_FIND, err, &rc);
  if (!st) return rc;
  bind_str(st, 1, url);
  int r = sqlite3_step(st);
  if (r == SQLITE_ROW) ids[(*n)++] = sqlite3_column_int64(st, 0);
  rc = r == SQLITE_ROW || r == SQLITE_DONE ? CNS_OK
                                           : fail(s, err, "replace a page");
  sqlite3_reset(st);
  return rc;
}

/* Page id out of page_fts and page. */
static int drop_page(store *s, long long id, buf *err) {
  int rc = CNS_OK;
  sqlite3_stmt *old = page_stmt(s, P_OLD, err, &rc);
  sqlite3_stmt *del = old ? page_stmt(s, P_FTS_DEL, err, &rc) : NULL;
  sqlite3_stmt *row = del ? page_stmt(s, P_DEL, err, &rc) : NULL;
  if (!row) return rc;
  rc = fts_delete(s, old, del, 4, id, "replace a page", err);
  if (rc) return rc;
  sqlite3_bind_int64(row, 1, id);
  return run(s, row, err, "replace a page");
}

/* pg into page, and into page_fts when it has a body. */
static int add_page(store *s, const store_page *pg, buf *err) {
  int rc = CNS_OK;
  sqlite3_stmt *st = page_stmt(s, P_ADD, err, &rc);
  if (!st) return rc;
  bind_str(st, 1, pg->url);
  bind_str(st, 2, pg->final_url);
  if (pg->status > 0) sqlite3_bind_int64(st, 3, pg->status);
  bind_str(st, 4, pg->content_type);
  bind_str(st, 5, pg->title);
  bind_str(st, 6, pg->heading);
  bind_str(st, 7, pg->body);
  sqlite3_bind_int64(st, 8, pg->fetched);
  bind_str(st, 9, pg->etag);
  bind_str(st, 10, pg->last_modified);
  bind_str(st, 11, pg->error);
  long long id = next_id(s, 1);
  sqlite3_bind_int64(st, 12, id);
  if ((rc = run(s, st, err, "store a page")) != CNS_OK || !pg->body) return rc;
  if (!(st = page_stmt(s, P_FTS_ADD, err, &rc))) return rc;
  sqlite3_bind_int64(st, 1, id);
  bind_str(st, 2, pg->title);
  bind_str(st, 3, pg->heading ? pg->heading : "");
  bind_str(st, 4, pg->body);
  return run(s, st, err, "index a page");
}

/* Every old version out, in id order, then every new one in: FTS5 starts
** a segment whenever a row id is not above the last one it was given, so
** replacing page by page (out 7, in 120, out 9: down) wrote a segment
** per page, and the FTS 'delete' goes through fts_delete() for the
** savepoint's sake.  New ids are above every old one (next_id()). */
int store_put_pages(store *s, const store_page *pgs, size_t n, buf *err) {
  long long *ids = cns_xcalloc(n ? n : 1, sizeof *ids);
  size_t nid = 0;
  int rc = CNS_OK;
  for (size_t i = 0; i < n && !rc; i++)
    rc = find_page(s, pgs[i].url, ids, &nid, err);
  qsort(ids, nid, sizeof *ids, cns_cmp_id);
  for (size_t i = 0; i < nid && !rc; i++) rc = drop_page(s, ids[i], err);
  for (size_t i = 0; i < n && !rc; i++) rc = add_page(s, &pgs[i], err);
  free(ids);
  return rc;
}

int store_mark_page(store *s, const char *url, long status,
                    const char *error, long long fetched, buf *err) {
  int rc = CNS_OK;
  sqlite3_stmt *st = page_stmt(s, P_MARK, err, &rc);
  if (!st) return rc;
  bind_str(st, 1, url);
  if (status > 0) sqlite3_bind_int64(st, 2, status);
  bind_str(st, 3, error);
  sqlite3_bind_int64(st, 4, fetched);
  return run(s, st, err, "update a page");
}

int store_prune_pages(store *s, long *n, buf *err) {
  int rc = CNS_OK;
  sqlite3_stmt *st;
  *n = 0;
  for (int i = P_PRUNE_FTS; i <= P_PRUNE && !rc; i++) {
    if (!(st = page_stmt(s, i, err, &rc))) return rc;
    rc = run(s, st, err, "drop pages no note links");
  }
  if (!rc) *n = (long)sqlite3_changes(s->db);
  return rc;
}

/* ---- dates ---------------------------------------------------------- */

/* Parse YYYY[-MM[-DD]] at s; returns bytes used (0 if none), writes the
** normalised form to out (11 bytes). */
static size_t parse_date(const char *s, char *out) {
  int m = 0, d = 0;
  size_t n = 0;
  for (; n < 4; n++)
    if (!isdigit((unsigned char)s[n])) return 0;
  if (s[0] == '0') return 0;
  if ((s[4] == '-' || s[4] == '_') && isdigit((unsigned char)s[5]) &&
      isdigit((unsigned char)s[6])) {
    m = (s[5] - '0') * 10 + (s[6] - '0');
    if (m < 1 || m > 12) m = 0;
    else n = 7;
  }
  if (m && (s[7] == '-' || s[7] == '_') && isdigit((unsigned char)s[8]) &&
      isdigit((unsigned char)s[9])) {
    d = (s[8] - '0') * 10 + (s[9] - '0');
    if (d < 1 || d > 31) d = 0;
    else n = 10;
  }
  if (isdigit((unsigned char)s[n])) return 0; /* part of a longer number */
  memcpy(out, s, 4); /* YYYY-MM-DD with '-' even where '_' was written */
  out[4] = 0;
  if (m) memcpy(out + 4, (char[]){'-', s[5], s[6], 0}, 4);
  if (d) memcpy(out + 7, (char[]){'-', s[8], s[9], 0}, 4);
  return n;
}

char *store_note_date(const char *path, const char *fm_date) {
  char out[11];
  if (fm_date) {
    while (*fm_date == ' ' || *fm_date == '"' || *fm_date == '\'') fm_date++;
    if (parse_date(fm_date, out)) return cns_xstrdup(out);
  }
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  for (const char *p = base; *p; p++) {
    if (p > base && isdigit((unsigned char)p[-1])) continue;
    size_t n = parse_date(p, out);
    if (n >= 7) return cns_xstrdup(out); /* a bare year in a name is too weak */
  }
  return NULL;
}

/* ---- checking ------------------------------------------------------- */

/* Each query returns one row describing the first broken invariant, or
** no row when it holds. */
static const char *invariants[] = {
    "SELECT 'section ' || id || ' belongs to no note' FROM section "
    "WHERE note NOT IN (SELECT id FROM note) LIMIT 1",
    "SELECT 'link ' || id || ' belongs to no note' FROM link "
    "WHERE note NOT IN (SELECT id FROM note) LIMIT 1",
    "SELECT 'note ''' || path || ''' has no sections' FROM note "
    "WHERE id NOT IN (SELECT note FROM section) LIMIT 1",
    "SELECT 'note ''' || path || ''' has no text' FROM note "
    "WHERE id NOT IN (SELECT note FROM body) LIMIT 1",
    "SELECT 'text ' || note || ' belongs to no note' FROM body "
    "WHERE note NOT IN (SELECT id FROM note) LIMIT 1",
    "SELECT 'link ' || id || ' has a wrong target hash' FROM link "
    "WHERE thash IS NOT cns_thash(target) LIMIT 1",
    "SELECT 'sections of ''' || n.path || ''' do not cover the note' "
    "FROM note n JOIN body b ON b.note = n.id JOIN section s ON s.note = n.id "
    "GROUP BY n.id HAVING sum(s.len) != b.len OR min(s.off) != 0 "
    "LIMIT 1",
};

static int first_row(sqlite3 *db, const char *sql, buf *err) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
    buf_addf(err, "cannot check the index: %s", sqlite3_errmsg(db));
    return db_rc_to_cns(sqlite3_errcode(db));
  }
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    const char *t = (const char *)sqlite3_column_text(st, 0);
    if (t && strcmp(t, "ok") != 0) {
      /* one line: SQLite's report can run over many */
      size_t n = strcspn(t, "\n");
      if (strncmp(t, "*** in database main ***", n) == 0 && t[n])
        t += n + 1, n = strcspn(t, "\n");
      buf_addf(err, "%.*s", (int)(n < 160 ? n : 160), t);
      sqlite3_finalize(st);
      return CNS_ECORRUPT;
    }
    rc = SQLITE_DONE;
  }
  if (rc != SQLITE_DONE) buf_addf(err, "%s", sqlite3_errmsg(db));
  rc = rc == SQLITE_DONE ? CNS_OK : db_rc_to_cns(sqlite3_errcode(db));
  sqlite3_finalize(st);
  return rc;
}

/* FTS5's integrity-check reads an external-content table's index alone,
** never its content: the SQLite this builds on (3.40) has no check of
** the one against the other.  So store_check() indexes the content once
** more, into a TEMP table with the same tokenizer (for the regex index,
** FTS5's own trigram, whose word trigrams tri.c's cnstri must give), and
** compares the two indexes through fts5vocab.  The word index is compared
** instance by instance (term, row, column, position): its rows are
** inserted with tokens recorded on another thread (tok.c's tapes), and a
** token lost, added or moved there would show only as other positions.
** That costs two to four times what indexing the notes costs (45 MB:
** 7.5-16 s, against 3.3 s by term).  The page index, which FTS5 tokenizes
** itself, and the regex index, which has no positions, are compared term
** by term: for each term (and column), the rows holding it and its
** occurrences. */
typedef struct fts_copy {
  const char *what;    /* for the message */
  const char *table;   /* the table in main */
  const char *create;  /* the copy's columns and options */
  const char *fill;    /* fills temp.cns_copy from the content */
  const char *vocab;   /* fts5vocab type to compare */
  const char *keep;    /* which of the copy's terms the index holds */
  int lazy;            /* there only once built (store_trigram_ready) */
} fts_copy;

static const fts_copy fts_copies[] = {
    {"word index", "note_fts", "title, heading, link, body, tokenize='cns'",
     "INSERT INTO temp.cns_copy(rowid, title, heading, link, body) "
     "SELECT id, title, heading, link, body FROM note_doc",
     "instance", "1", 0},
    {"page index", "page_fts", "title, heading, link, body, tokenize='cns'",
     "INSERT INTO temp.cns_copy(rowid, title, heading, link, body) "
     "SELECT id, title, heading, link, body FROM page "
     "WHERE body IS NOT NULL",
     "col", "1", 0},
    {"regex index", "note_tri", "body, tokenize='trigram', detail='none'",
     "INSERT INTO temp.cns_copy(rowid, body) "
     "SELECT id, body FROM note_tri_doc",
     "row", "tri_word(term)", 1},
};

static void drop_copy(sqlite3 *db) {
  sqlite3_exec(db,
               "DROP TABLE IF EXISTS temp.cns_v_main;"
               "DROP TABLE IF EXISTS temp.cns_v_copy;"
               "DROP TABLE IF EXISTS temp.cns_copy;",
               NULL, NULL, NULL);
}

/* Does the index of c->table hold what its content does? */
static int check_copy(sqlite3 *db, const fts_copy *c, buf *err) {
  char *sql = sqlite3_mprintf(
      "CREATE VIRTUAL TABLE temp.cns_copy USING fts5(%s, content='');"
      "%s;"
      "CREATE VIRTUAL TABLE temp.cns_v_main USING fts5vocab(main, %s, %Q);"
      "CREATE VIRTUAL TABLE temp.cns_v_copy USING fts5vocab(temp, cns_copy,"
      " %Q);",
      c->create, c->fill, c->table, c->vocab, c->vocab);
  char *diff = sqlite3_mprintf(
      "SELECT 'the %s does not match the notes at the term ''' || "
      "replace(replace(term, char(10), ' '), char(13), ' ') || '''' FROM "
      "(SELECT * FROM (SELECT * FROM temp.cns_v_main EXCEPT "
      "SELECT * FROM temp.cns_v_copy WHERE %s) UNION ALL SELECT * FROM "
      "(SELECT * FROM temp.cns_v_copy WHERE %s EXCEPT "
      "SELECT * FROM temp.cns_v_main)) LIMIT 1",
      c->what, c->keep, c->keep);
  if (!sql || !diff) cns_oom(strlen(c->fill) + 512);
  int rc = CNS_OK;
  drop_copy(db);
  if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
    buf_addf(err, "cannot check the %s: %s", c->what, sqlite3_errmsg(db));
    rc = db_rc_to_cns(sqlite3_errcode(db));
  }
  if (!rc) rc = first_row(db, diff, err);
  drop_copy(db);
  sqlite3_free(sql);
  sqlite3_free(diff);
  return rc;
}

/* Add every note to the brief of its folder in temp.cns_folder. */
static int count_folders(sqlite3 *db) {
  sqlite3_stmt *rd = NULL, *wr = NULL;
  int rc = sqlite3_prepare_v2(db, "SELECT path, size, mtime FROM note", -1,
                              &rd, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2(db, FOLDER_COUNT("temp.cns_folder"), -1, &wr,
                            NULL);
  while (rc == SQLITE_OK && (rc = sqlite3_step(rd)) == SQLITE_ROW) {
    const char *path = (const char *)sqlite3_column_text(rd, 0);
    if (!path) {
      rc = SQLITE_NOMEM;
      break;
    }
    uint64_t h = scan_note_hash(path, sqlite3_column_int64(rd, 1),
                                sqlite3_column_int64(rd, 2));
    sqlite3_bind_text64(wr, 1, path, scan_dir_len(path), SQLITE_TRANSIENT,
                        SQLITE_UTF8);
    sqlite3_bind_int(wr, 2, 1);
    sqlite3_bind_int64(wr, 3, (sqlite3_int64)h);
    rc = sqlite3_step(wr);
    sqlite3_reset(wr);
    if (rc == SQLITE_DONE) rc = SQLITE_OK;
  }
  sqlite3_finalize(rd);
  sqlite3_finalize(wr);
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Does table folder brief each folder as its notes say?  An update trusts
** it to pass over the folders whose brief matches the walk's. */
static int check_folders(sqlite3 *db, buf *err) {
  static const char *drop = "DROP TABLE IF EXISTS temp.cns_folder";
  int rc = CNS_OK;
  sqlite3_exec(db, drop, NULL, NULL, NULL);
  if (sqlite3_exec(db,
                   "CREATE TABLE temp.cns_folder(path TEXT PRIMARY KEY, "
                   "notes INTEGER NOT NULL, sum INTEGER NOT NULL) "
                   "WITHOUT ROWID",
                   NULL, NULL, NULL) != SQLITE_OK ||
      count_folders(db) != SQLITE_OK) {
    buf_addf(err, "cannot check the folder list: %s", sqlite3_errmsg(db));
    rc = db_rc_to_cns(sqlite3_errcode(db));
  }
  if (!rc)
    rc = first_row(db,
                   "SELECT 'the folder list does not match the notes at ''' "
                   "|| path || '''' FROM (SELECT * FROM (SELECT * FROM "
                   "main.folder EXCEPT SELECT * FROM temp.cns_folder) UNION "
                   "ALL SELECT * FROM (SELECT * FROM temp.cns_folder EXCEPT "
                   "SELECT * FROM main.folder)) LIMIT 1",
                   err);
  sqlite3_exec(db, drop, NULL, NULL, NULL);
  return rc;
}

int store_check(sqlite3 *db, buf *err) {
  int rc = first_row(db, "PRAGMA integrity_check", err);
  if (rc) return rc;
  if (sqlite3_exec(db,
                   "INSERT INTO note_fts(note_fts) VALUES('integrity-check');"
                   "INSERT INTO page_fts(page_fts) VALUES('integrity-check');",
                   NULL, NULL, NULL) != SQLITE_OK ||
      (store_trigram_ready(db) &&
       sqlite3_exec(db, "INSERT INTO note_tri(note_tri) "
                        "VALUES('integrity-check')",
                    NULL, NULL, NULL) != SQLITE_OK)) {
    buf_addf(err, "the word index does not match the notes: %s",
             sqlite3_errmsg(db));
    return CNS_ECORRUPT;
  }
  for (size_t i = 0; i < sizeof invariants / sizeof *invariants; i++)
    if ((rc = first_row(db, invariants[i], err)) != CNS_OK) return rc;
  if ((rc = check_folders(db, err)) != CNS_OK) return rc;
  int tri = store_trigram_ready(db);
  for (size_t i = 0; i < sizeof fts_copies / sizeof *fts_copies && !rc; i++)
    if (tri || !fts_copies[i].lazy)
      rc = check_copy(db, &fts_copies[i], err);
  return rc;
}
