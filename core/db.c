/*
** db.c -- the cns handle: opening the index, errors, notices.
**
** cns_open() resolves the notes root, opens (or creates) the SQLite index,
** sets it up for safe concurrent use (WAL, a busy timeout, synchronous=
** NORMAL, which in WAL mode cannot corrupt on a crash), registers the
** "cns" tokenizer and the regexp() function, and makes sure the schema is
** the one this build writes.  An index from another schema version is
** only a cache: it is deleted and made again, with a notice.
**
** A new index is built aside.  Its first update writes every page of the
** file, and in WAL mode every page is written twice, to INDEX-wal and
** again by the checkpoint, with the commit waiting for both to reach the
** disk: without that the 45 MB build takes 14% less (bench/README.md).
** A file no other process can see needs no WAL.  So a missing index is made as
** INDEX-new, with the rollback journal in memory (a failed update still
** rolls back) and no fsyncs, and db_publish() renames it to INDEX once
** an update has committed in it: fsync the file, rename, fsync the folder,
** and reopen it in WAL mode.  A crash before the rename leaves INDEX-new
** and no INDEX, and the next run starts again; there is never a half-built
** INDEX.  The builder holds a flock() on INDEX-new: a second cnsearch
** waits for it, then opens the index it published.
**
** Errors: every library function that fails calls cns_seterr() (or
** cns_dberr() for SQLite failures), which records one message on the
** handle and returns the code, so callers write `return cns_seterr(...)`.
*/
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cnsint.h"

int cns_seterr(cns *h, int rc, const char *fmt, ...) {
  va_list ap;
  buf msg = BUF_INIT;
  va_start(ap, fmt); /* the arguments may point into h->err itself */
  buf_vaddf(&msg, fmt, ap);
  va_end(ap);
  buf_free(&h->err);
  h->err = msg;
  return rc;
}

int db_rc_to_cns(int rc) {
  switch (rc & 0xff) {
  case SQLITE_OK: return CNS_OK;
  case SQLITE_CORRUPT:
  case SQLITE_NOTADB: return CNS_ECORRUPT;
  case SQLITE_BUSY:
  case SQLITE_LOCKED: return CNS_EBUSY;
  case SQLITE_INTERRUPT: return CNS_EINTR;
  case SQLITE_FULL:
  case SQLITE_IOERR:
  case SQLITE_CANTOPEN:
  case SQLITE_READONLY:
  case SQLITE_PERM: return CNS_EIO;
  default: return CNS_EDB;
  }
}

int cns_dberr(cns *h, const char *what) {
  /* sqlite3_interrupt() fails whatever runs, and not always with
  ** SQLITE_INTERRUPT: a statement prepared as the signal came failed
  ** with "vtable constructor failed" */
  if (h->interrupted) return cns_seterr(h, CNS_EINTR, "interrupted");
  int rc = db_rc_to_cns(sqlite3_errcode(h->db));
  /* the failing call's code may be gone (a later reset succeeded): still
  ** an error, never CNS_OK, or the caller would go on as if it worked */
  if (rc == CNS_OK)
    return cns_seterr(h, CNS_EDB, "cannot %s in '%s'", what, h->index_path);
  if (rc == CNS_ECORRUPT)
    return cns_seterr(h, rc,
                      "index '%s' is damaged; run 'cnsearch index --rebuild'",
                      h->index_path);
  if (rc == CNS_EBUSY)
    return cns_seterr(h, rc,
                      "index '%s' is locked by another cnsearch; try again",
                      h->index_path);
  return cns_seterr(h, rc, "cannot %s in '%s': %s", what, h->index_path,
                    sqlite3_errmsg(h->db));
}

const char *cns_errmsg(const cns *h) { return h ? buf_str(&h->err) : ""; }

const char *cns_take_notice(cns *h) {
  if (!h->notice) return NULL;
  buf_reset(&h->err);
  buf_adds(&h->err, h->notice);
  free(h->notice);
  h->notice = NULL;
  return buf_str(&h->err);
}

void cns_interrupt(cns *h) {
  h->interrupted = 1;
  if (h->db) sqlite3_interrupt(h->db);
}

static void fresh_discard(cns *h);

/* Close the connection; a new index is thrown away. */
static void close_index(cns *h) {
  if (h->fresh_path) fresh_discard(h);
  sqlite3_close_v2(h->db);
  h->db = NULL;
}

/* A new index an update committed in was published then; one no update
** wrote to (an empty folder) is published here, as its schema is whole. */
void cns_close(cns *h) {
  if (!h) return;
  if (h->fresh_path && !h->fresh_bad) db_publish(h);
  /* An interrupt stays on the connection until a statement starts, and
  ** the checkpoint sqlite3_close() makes would fail on it: the WAL would
  ** stay, for every later search to read through again. */
  if (h->db && h->interrupted)
    sqlite3_exec(h->db, "SELECT 1", NULL, NULL, NULL);
  close_index(h);
  free(h->root);
  free(h->index_path);
  free(h->notice);
  cfg_free(&h->cfg);
  buf_free(&h->err);
  free(h);
}

/* mkdir -p for the folder that will hold the index file. */
static int make_parent(cns *h, const char *path) {
  char *dir = cns_xstrdup(path);
  int rc = CNS_OK;
  for (char *p = dir + 1; *p && !rc; p++) {
    if (*p != '/') continue;
    *p = 0;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
      rc = cns_seterr(h, CNS_EIO, "cannot create folder '%s': %s", dir,
                      strerror(errno));
    *p = '/';
  }
  free(dir);
  return rc;
}

static int pragma_int(sqlite3 *db, const char *sql, int *out) {
  sqlite3_stmt *st;
  int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
  if (rc != SQLITE_OK) return rc;
  rc = sqlite3_step(st);
  *out = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
  if (rc == SQLITE_ROW) rc = SQLITE_OK;
  int frc = sqlite3_finalize(st);
  return rc == SQLITE_DONE ? frc : rc;
}

/* The folder path is in, as a path to open (the caller frees it). */
static char *folder_of(const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash) return cns_xstrdup(".");
  if (slash == path) return cns_xstrdup("/");
  return cns_xstrndup(path, (size_t)(slash - path));
}

/* Say so when the index (or its folder, where SQLite keeps its WAL) is
** read-only; 0 when that is not the trouble. */
static int not_writable(cns *h) {
  char *dir = folder_of(h->index_path);
  int ro = access(h->index_path, W_OK) != 0 || access(dir, W_OK) != 0;
  if (ro)
    cns_seterr(h, CNS_EIO, "cannot write index '%s': %s is read-only; use "
               "--no-update, or --index to put the index elsewhere",
               h->index_path, access(h->index_path, W_OK) ? "the file" : "its folder");
  free(dir);
  return ro;
}

static int setup_connection(cns *h) {
  sqlite3_busy_timeout(h->db, DB_BUSY_MS);
  sqlite3_extended_result_codes(h->db, 0);
  if (tok_register(h->db) != SQLITE_OK)
    return cns_seterr(h, CNS_EDB, "cannot register the tokenizer: %s",
                      sqlite3_errmsg(h->db));
  if (tri_register(h->db) != SQLITE_OK)
    return cns_seterr(h, CNS_EDB, "cannot register the regex tokenizer: %s",
                      sqlite3_errmsg(h->db));
  if (zip_register(h->db) != SQLITE_OK)
    return cns_seterr(h, CNS_EDB, "cannot register unpack(): %s",
                      sqlite3_errmsg(h->db));
  if (rank_register(h->db) != SQLITE_OK)
    return cns_seterr(h, CNS_EDB, "cannot register cns_rank(): %s",
                      sqlite3_errmsg(h->db));
  if (links_register(h->db) != SQLITE_OK)
    return cns_seterr(h, CNS_EDB, "cannot register cns_thash(): %s",
                      sqlite3_errmsg(h->db));
  if (rx_register(h->db) != SQLITE_OK)
    return cns_seterr(h, CNS_EDB, "cannot register regexp(): %s",
                      sqlite3_errmsg(h->db));
  if (h->flags & CNS_OPEN_READONLY) return CNS_OK;
  /* a new index: 8 KB pages build it 5-6% faster, and searches and
  ** updates run as fast as with 4 KB ones (bench/README.md) */
  if (h->fresh_path)
    return sqlite3_exec(h->db, "PRAGMA page_size=8192;"
                        "PRAGMA auto_vacuum=INCREMENTAL;"
                        "PRAGMA journal_mode=MEMORY; PRAGMA synchronous=OFF",
                        NULL, NULL, NULL) == SQLITE_OK
               ? CNS_OK
               : cns_dberr(h, "set up the new index");
  /* auto_vacuum takes effect only in a new file (before WAL mode marks
  ** it), and lets store_bulk() give back the pages a load frees.  It is
  ** set only where it is not set yet: on a file that has it, the pragma
  ** still rewrites the header's vacuum flag, which made every update and
  ** every freshness-checked search commit a write (three fdatasyncs and a
  ** checkpoint) when nothing had changed. */
  int vacuum = 0;
  if (pragma_int(h->db, "PRAGMA auto_vacuum", &vacuum) != SQLITE_OK ||
      (vacuum != 2 && sqlite3_exec(h->db, "PRAGMA auto_vacuum=INCREMENTAL",
                                   NULL, NULL, NULL) != SQLITE_OK) ||
      sqlite3_exec(h->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                   NULL, NULL, NULL) != SQLITE_OK)
    return not_writable(h) ? CNS_EIO : cns_dberr(h, "set up the index");
  return CNS_OK;
}

static int open_db(cns *h) {
  /* NOMUTEX: a connection is only ever used by the thread that opened
  ** it (the walk's helpers never touch SQLite), so SQLite need not lock
  ** it on every call. */
  int oflags = SQLITE_OPEN_NOMUTEX |
               ((h->flags & CNS_OPEN_READONLY)
                    ? SQLITE_OPEN_READONLY
                    : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  const char *path = h->fresh_path ? h->fresh_path : h->index_path;
  if (sqlite3_open_v2(path, &h->db, oflags, NULL) != SQLITE_OK) {
    int rc = cns_seterr(h, CNS_EIO, "cannot open index '%s': %s", path,
                        h->db ? sqlite3_errmsg(h->db) : "out of memory");
    sqlite3_close_v2(h->db);
    h->db = NULL;
    return rc;
  }
  return setup_connection(h);
}

/* The files SQLite keeps beside a database, which it would read as that
** database's: WAL, shared memory, rollback journal. */
static void remove_side_files(const char *path) {
  static const char *suffix[] = {"-wal", "-shm", "-journal"};
  for (size_t i = 0; i < 3; i++) {
    char *p = cns_xasprintf("%s%s", path, suffix[i]);
    unlink(p);
    free(p);
  }
}

static void remove_index_files(const char *path) {
  unlink(path);
  remove_side_files(path);
}

/* ---- a new index, built aside (see the top of the file) ---------------- */

#define FRESH_WAIT_MS 10000 /* for another cnsearch's new index: SQLite's
                               busy timeout (setup_connection) */

static int same_file(int fd, const char *path) {
  struct stat a, b;
  return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
         a.st_ino == b.st_ino;
}

/* INDEX-new, locked and emptied (a crash may have left one): we build it. */
static int fresh_own(cns *h, char *path /* taken */, int fd) {
  remove_side_files(path);
  if (ftruncate(fd, 0) != 0) {
    int rc = cns_seterr(h, CNS_EIO, "cannot write '%s': %s", path,
                        strerror(errno));
    close(fd);
    free(path);
    return rc;
  }
  h->fresh_path = path;
  h->fresh_fd = fd;
  return CNS_OK;
}

/* Take INDEX-new to build a new index in: CNS_OK, or 1 when INDEX appeared
** meanwhile (another cnsearch built it: open that), or an error. */
static int fresh_lock(cns *h) {
  char *path = cns_xasprintf("%s-new", h->index_path);
  for (int waited = 0;;) {
    if (access(h->index_path, F_OK) == 0) {
      free(path);
      return 1;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) {
      int rc = cns_seterr(h, CNS_EIO, "cannot create index '%s': %s",
                          h->index_path, strerror(errno));
      free(path);
      return rc;
    }
    int locked = flock(fd, LOCK_EX | LOCK_NB) == 0;
    if (locked && access(h->index_path, F_OK) == 0) {
      if (same_file(fd, path)) unlink(path); /* made by our open() */
      close(fd);
      free(path);
      return 1;
    }
    if (locked && same_file(fd, path)) return fresh_own(h, path, fd);
    close(fd);
    if (locked) continue; /* it was renamed to INDEX, or removed */
    if (h->interrupted || waited >= FRESH_WAIT_MS) {
      free(path);
      return h->interrupted
                 ? cns_seterr(h, CNS_EINTR, "interrupted")
                 : cns_seterr(h, CNS_EBUSY, "index '%s' is being made by "
                              "another cnsearch; try again when it is done",
                              h->index_path);
    }
    usleep(20 * 1000);
    waited += 20;
  }
}

/* Open a missing index: as INDEX-new, or the one another cnsearch has
** just made. */
static int open_new(cns *h) {
  int rc = make_parent(h, h->index_path);
  if (!rc) rc = fresh_lock(h);
  if (rc == 1) rc = CNS_OK;
  return rc ? rc : open_db(h);
}

static void fresh_release(cns *h) {
  close(h->fresh_fd);
  free(h->fresh_path);
  h->fresh_path = NULL;
  h->fresh_fd = -1;
}

/* A new index an update failed in, or that cannot be published. */
static void fresh_discard(cns *h) {
  sqlite3 *db = h->db;
  h->db = NULL; /* before the close: cns_interrupt() may look */
  sqlite3_close_v2(db);
  unlink(h->fresh_path);
  fresh_release(h);
}

static int fsync_folder(const char *path) {
  char *dir = folder_of(path);
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int rc = fd >= 0 && fsync(fd) == 0 ? 0 : -1;
  if (fd >= 0) close(fd);
  free(dir);
  return rc;
}

/* Put INDEX-new in place as INDEX.  Files a removed INDEX left (its WAL
** above all) would be read as this one's: they go first. */
static int fresh_rename(cns *h) {
  remove_side_files(h->index_path);
  int r = renameat2(AT_FDCWD, h->fresh_path, AT_FDCWD, h->index_path,
                    RENAME_NOREPLACE);
  if (r != 0 && errno == EINVAL) /* a file system without it */
    r = link(h->fresh_path, h->index_path) == 0 ? unlink(h->fresh_path) : -1;
  if (r != 0)
    return cns_seterr(h, errno == EEXIST ? CNS_EBUSY : CNS_EIO,
                      errno == EEXIST ? "index '%s' was made by another "
                      "program while this one was built; try again"
                      : "cannot make index '%s': %s",
                      h->index_path, strerror(errno));
  return fsync_folder(h->index_path) == 0
             ? CNS_OK
             : cns_seterr(h, CNS_EIO, "cannot make index '%s': %s",
                          h->index_path, strerror(errno));
}

int db_publish(cns *h) {
  if (!h->fresh_path) return CNS_OK;
  if (!h->db || h->fresh_bad)
    return cns_seterr(h, CNS_EIO, "cannot make index '%s'", h->index_path);
  sqlite3 *db = h->db;
  h->db = NULL;
  if (sqlite3_close(db) != SQLITE_OK) { /* a statement left open: a bug */
    h->db = db;
    return cns_dberr(h, "close the new index");
  }
  if (fsync(h->fresh_fd) != 0)
    return cns_seterr(h, CNS_EIO, "cannot write index '%s': %s",
                      h->fresh_path, strerror(errno));
  int rc = fresh_rename(h);
  if (rc) return rc;
  fresh_release(h);
  return open_db(h);
}

/* Make sure the schema is ours: create it in a new file, rebuild an index
** from another version. */
static int ensure_schema(cns *h) {
  int version = 0, tables = 0;
  if (pragma_int(h->db, "PRAGMA user_version", &version) != SQLITE_OK ||
      pragma_int(h->db, "SELECT count(*) FROM sqlite_master", &tables) !=
          SQLITE_OK)
    return cns_dberr(h, "read the index");
  if (version == STORE_SCHEMA_VERSION) return CNS_OK;
  if (version == 0 && tables == 0 && (h->flags & CNS_OPEN_READONLY))
    return cns_seterr(h, CNS_ECORRUPT,
                      "index '%s' is damaged; run 'cnsearch index --rebuild'",
                      h->index_path);
  if (h->flags & CNS_OPEN_READONLY)
    return cns_seterr(h, CNS_EUSAGE,
                      "index '%s' was made by another version; run "
                      "'cnsearch index' to rebuild it",
                      h->index_path);
  if (version != 0 || tables != 0) {
    free(h->notice);
    h->notice = cns_xasprintf("index '%s' was made by another version of "
                              "cnsearch; rebuilding it",
                              h->index_path);
    close_index(h);
    remove_index_files(h->index_path);
    int rc = open_new(h);
    return rc ? rc : ensure_schema(h);
  }
  return store_schema(h->db, &h->err);
}

static int resolve_root(cns *h, const char *root) {
  char real[PATH_MAX];
  struct stat st;
  if (!realpath(root, real) || stat(real, &st) != 0)
    return cns_seterr(h, CNS_EUSAGE, "notes folder '%s' does not exist: %s",
                      root, strerror(errno));
  if (!S_ISDIR(st.st_mode))
    return cns_seterr(h, CNS_EUSAGE, "notes folder '%s' is not a folder",
                      root);
  h->root = cns_xstrdup(real);
  return CNS_OK;
}

static char *config_path(const cns *h) {
  return cns_xasprintf("%s/.cnsearch/config", h->root);
}

static int load_config(cns *h) {
  char *path = config_path(h);
  buf err = BUF_INIT;
  cfg_stamp_of(path, &h->cfg_at);
  int rc = cfg_load(&h->cfg, path, &err);
  if (rc) cns_seterr(h, rc, "%s", buf_str(&err));
  buf_free(&err);
  free(path);
  return rc;
}

/* Has the config changed since load_config() read it?  A long-lived
** handle (the watcher's) then holds stale settings. */
int db_config_changed(const cns *h) {
  char *path = config_path(h);
  cfg_stamp now;
  cfg_stamp_of(path, &now);
  free(path);
  return !cfg_stamp_same(&now, &h->cfg_at);
}

static int open_index(cns *h) {
  struct stat st;
  int exists = stat(h->index_path, &st) == 0;
  if (!exists && !(h->flags & CNS_OPEN_CREATE))
    return cns_seterr(h, CNS_EUSAGE,
                      "no index at '%s'; run 'cnsearch index' first",
                      h->index_path);
  int rc = exists ? open_db(h) : open_new(h);
  if (!rc) rc = ensure_schema(h);
  return rc;
}

int cns_reset(cns *h) {
  close_index(h);
  remove_index_files(h->index_path);
  return open_index(h);
}

/* CNS_OPEN_REBUILD: a damaged index is only a cache; start a new one. */
static int open_or_replace(cns *h) {
  int rc = open_index(h);
  if (rc != CNS_ECORRUPT || !(h->flags & CNS_OPEN_REBUILD)) return rc;
  close_index(h);
  remove_index_files(h->index_path);
  free(h->notice);
  h->notice = cns_xasprintf("index '%s' was damaged; made a new one",
                            h->index_path);
  return open_index(h);
}

int cns_open(const char *root, const char *index_path, int flags, cns **out,
             char **errmsg) {
  cns *h = cns_xcalloc(1, sizeof *h);
  h->flags = flags;
  h->fresh_fd = -1;
  h->index_path = cns_xstrdup(index_path);
  int rc = resolve_root(h, root);
  if (!rc) rc = load_config(h);
  if (!rc) rc = open_or_replace(h);
  if (rc) {
    h->fresh_bad = 1; /* a new index is thrown away */
    if (errmsg) *errmsg = cns_xstrdup(buf_str(&h->err));
    cns_close(h);
    *out = NULL;
    return rc;
  }
  *out = h;
  return CNS_OK;
}
