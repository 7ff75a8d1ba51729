/*
** test_zip.c -- note bodies compressed against a dictionary (core/zip.c).
**
** A bulk load into an empty index makes a zstd dictionary from samples of
** its notes and compresses every body against it; the dictionary lives in
** meta('zdict') and each frame names it by id.  What must hold:
**
**   - too few samples make no dictionary (bodies are then plain frames);
**   - every body reads back as written, through unpack(), and names the
**     stored dictionary; a later update of a non-empty index reuses that
**     dictionary rather than making another;
**   - the dictionary earns its place: the same notes compress smaller
**     with it than without;
**   - a reader that cached one dictionary reads the bodies of a rebuild
**     another connection made with the next one, and a body whose
**     dictionary is gone is an error, never wrong text.
**
** It uses a real index file and two connections to it.
*/
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>
#include <zstd.h>
#include "cnsint.h"
#include "check.h"

#define NOTES 120

static const char *words[] = {
    "attention", "expert", "router", "token", "gradient", "shard",
    "pipeline", "kernel", "latency", "throughput", "## Results", "the",
    "of", "and", "a", "[paper](https://arxiv.org/abs/2101.03961)",
    "- [ ] ", "\n", "\n\n", "MoE", "FSDP", "batch", "`all_to_all`",
    "capacity factor", "load balancing loss"};

/* Note i's text: words of a small vocabulary in a fixed pseudo-random
** order, as notes share theirs. */
static char *note_text(int i) {
  buf b = BUF_INIT;
  unsigned seed = 7u + (unsigned)i * 2654435761u;
  buf_addf(&b, "# Note %d\n\n", i);
  int n = 200 + (int)(seed % 600);
  for (int k = 0; k < n; k++) {
    seed = seed * 1103515245u + 12345u;
    buf_adds(&b, words[(seed >> 16) % (sizeof words / sizeof *words)]);
    buf_addc(&b, ' ');
  }
  return buf_detach(&b);
}

/* Samples of notes first..first+NOTES as feed_sample() takes them: the
** first ZIP_SAMPLE_BYTES of each of ZIP_SAMPLES notes spread evenly. */
static unsigned samples_of(int first, buf *out, size_t *sizes) {
  unsigned k = 0;
  for (int i = 0; i < ZIP_SAMPLES; i++) {
    char *t = note_text(first + i * NOTES / ZIP_SAMPLES);
    size_t n = strlen(t) < ZIP_SAMPLE_BYTES ? strlen(t) : ZIP_SAMPLE_BYTES;
    buf_add(out, t, n);
    sizes[k++] = n;
    free(t);
  }
  return k;
}

/* Load notes first..first+NOTES-1 as a bulk load would, in one
** transaction: a rebuild empties the index first. */
static void load(sqlite3 *db, int first, int rebuild) {
  buf err = BUF_INIT, smp = BUF_INIT;
  size_t sizes[ZIP_SAMPLES];
  store *st = NULL;
  CHECK_INT(store_open(db, &st, &err), CNS_OK);
  CHECK_INT(store_begin(st, &err), CNS_OK);
  if (rebuild) CHECK_INT(store_clear(st, &err), CNS_OK);
  unsigned n = samples_of(first, &smp, sizes);
  CHECK_INT(store_new_dict(st, smp.p, sizes, n, &err), CNS_OK);
  int stored = 0;
  for (int i = first; i < first + NOTES; i++) {
    char *t = note_text(i), *path = cns_xasprintf("n%d.md", i);
    md_note md;
    if (md_note_parse(t, strlen(t), path, &md) == CNS_OK)
      stored += store_put_note(st, path, (long long)strlen(t), 1, t,
                               strlen(t), &md, &err) == CNS_OK;
    md_note_free(&md);
    free(path);
    free(t);
  }
  CHECK_INT(stored, NOTES);
  CHECK_INT(store_commit(st, &err), CNS_OK);
  store_close(st);
  buf_free(&smp);
  buf_free(&err);
}

/* How many of notes first..first+NOTES-1 read back exactly as written. */
static int read_back(sqlite3 *db, int first) {
  sqlite3_stmt *q;
  int same = 0;
  if (sqlite3_prepare_v2(db, "SELECT unpack(b.z, b.len) FROM body b JOIN "
                             "note n ON n.id = b.note WHERE n.path = ?",
                         -1, &q, NULL) != SQLITE_OK)
    return -1;
  for (int i = first; i < first + NOTES; i++) {
    char *t = note_text(i), *path = cns_xasprintf("n%d.md", i);
    sqlite3_bind_text(q, 1, path, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(q) == SQLITE_ROW) {
      const char *got = (const char *)sqlite3_column_text(q, 0);
      same += got && strcmp(got, t) == 0;
    }
    sqlite3_reset(q);
    free(path);
    free(t);
  }
  sqlite3_finalize(q);
  return same;
}

/* The dictionary id the frames of the body table name: -1 when they do
** not all name the same one. */
static long long frames_dict_id(sqlite3 *db) {
  sqlite3_stmt *q;
  long long id = -2;
  if (sqlite3_prepare_v2(db, "SELECT z FROM body", -1, &q, NULL) != SQLITE_OK)
    return -1;
  while (sqlite3_step(q) == SQLITE_ROW) {
    unsigned f = ZSTD_getDictID_fromFrame(sqlite3_column_blob(q, 0),
                                          (size_t)sqlite3_column_bytes(q, 0));
    if (id == -2) id = f;
    else if (id != (long long)f) id = -1;
  }
  sqlite3_finalize(q);
  return id;
}

static long long stored_dict_id(sqlite3 *db) {
  sqlite3_stmt *q;
  long long id = 0;
  if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key='zdict'", -1,
                         &q, NULL) == SQLITE_OK &&
      sqlite3_step(q) == SQLITE_ROW)
    id = ZSTD_getDictID_fromDict(sqlite3_column_blob(q, 0),
                                 (size_t)sqlite3_column_bytes(q, 0));
  sqlite3_finalize(q);
  return id;
}

/* Does text packed with d unpack to itself (through zstd directly)? */
static int round_trip(const zip_dict *d, const char *text) {
  buf z = BUF_INIT;
  zip_ctx *c = zip_new(d);
  zip_pack(c, text, strlen(text), &z);
  zip_free(c);
  size_t n, len = strlen(text);
  const void *bytes = zip_dict_bytes(d, &n);
  char *out = cns_xmalloc(len + 1);
  ZSTD_DCtx *dx = ZSTD_createDCtx();
  size_t got = dx ? ZSTD_decompress_usingDict(dx, out, len, z.p, z.len,
                                               bytes, n)
                  : 0;
  int same = dx && !ZSTD_isError(got) && got == len &&
             memcmp(out, text, len) == 0;
  ZSTD_freeDCtx(dx);
  free(out);
  buf_free(&z);
  return same;
}

static void test_too_few(void) {
  size_t sizes[ZIP_SAMPLES] = {5, 5};
  CHECK(zip_dict_make("hellohello", sizes, 2, 40000) == NULL);
  CHECK(zip_dict_make(NULL, sizes, 0, 40000) == NULL);
  CHECK(zip_dict_load("not a dictionary", 16) == NULL);
  /* samples all alike: zstd may refuse to train on them, and whatever
  ** it makes must still give back what it packs */
  buf smp = BUF_INIT;
  for (int i = 0; i < 64; i++) {
    for (int k = 0; k < 100; k++) buf_adds(&smp, "same line again\n");
    sizes[i] = 1600;
  }
  zip_dict *d = zip_dict_make(smp.p, sizes, 64, 40000);
  CHECK(!d || round_trip(d, "same line again\nand then another\n"));
  zip_dict_free(d);
  buf_free(&smp);
}

/* The same notes packed with and without the dictionary. */
static void test_smaller(void) {
  buf smp = BUF_INIT, z = BUF_INIT;
  size_t sizes[ZIP_SAMPLES], with = 0, without = 0;
  unsigned n = samples_of(0, &smp, sizes);
  zip_dict *d = zip_dict_make(smp.p, sizes, n, 40000);
  CHECK(d != NULL);
  if (d) {
    CHECK_INT(zip_dict_id(d), 40000);
    CHECK(round_trip(d, "attention router token shard, and words it never "
                        "saw: zebra quokka"));
    zip_ctx *a = zip_new(d), *b = zip_new(NULL);
    for (int i = 0; i < NOTES; i++) {
      char *t = note_text(1000 + i); /* not among the samples */
      zip_pack(a, t, strlen(t), &z);
      with += z.len;
      zip_pack(b, t, strlen(t), &z);
      without += z.len;
      free(t);
    }
    zip_free(a);
    zip_free(b);
    zip_dict_free(d);
  }
  CHECK(with > 0 && with * 10 < without * 9); /* at least 10% smaller */
  buf_free(&smp);
  buf_free(&z);
}

static void test_index(const char *path) {
  buf err = BUF_INIT;
  sqlite3 *a = check_open_index_db(path), *b = check_open_index_db(path);
  CHECK_INT(store_schema(a, &err), CNS_OK);

  load(a, 0, 0);
  long long id = stored_dict_id(a);
  CHECK_INT(id, 32768); /* the first of the ids zstd leaves free */
  CHECK_INT(frames_dict_id(a), id);
  CHECK_INT(read_back(a, 0), NOTES);
  CHECK_INT(read_back(b, 0), NOTES);

  /* more notes into an index that has bodies: same dictionary */
  load(a, NOTES, 0);
  CHECK_INT(stored_dict_id(a), id);
  CHECK_INT(frames_dict_id(a), id);
  CHECK_INT(read_back(b, NOTES), NOTES);

  /* a rebuild on connection a makes the next dictionary; b, which holds
  ** the old one, reads the new bodies */
  load(a, 5000, 1);
  CHECK_INT(stored_dict_id(a), id + 1);
  CHECK_INT(frames_dict_id(b), id + 1);
  CHECK_INT(read_back(b, 5000), NOTES);
  CHECK_INT(read_back(b, 0), 0); /* gone with the rebuild */

  /* without its dictionary a body is an error, never other text */
  CHECK_INT(sqlite3_exec(a, "DELETE FROM meta WHERE key='zdict'", NULL, NULL,
                         NULL),
            SQLITE_OK);
  sqlite3 *c = check_open_index_db(path);
  CHECK_INT(read_back(c, 5000), 0);
  CHECK_INT(check_sql_int(c, "SELECT count(*) FROM body WHERE "
                             "unpack(z, len) IS NOT NULL"),
            -1);
  CHECK_INT(sqlite3_errcode(c), SQLITE_CORRUPT);
  sqlite3_close(c);
  sqlite3_close(a);
  sqlite3_close(b);
  buf_free(&err);
}

int main(void) {
  char path[] = "/tmp/cns-test-zip-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  if (fd >= 0) close(fd);
  test_too_few();
  test_smaller();
  test_index(path);
  unlink(path);
  return check_done("test_zip");
}
