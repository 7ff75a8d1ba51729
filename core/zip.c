/*
** zip.c -- notes are kept compressed in the index.
**
** The index holds every note's text (snippets, positions and regexes need
** it without touching the notes folder), and markdown compresses two or
** three to one.  Bodies are stored as zstd frames, at level 2: on notes
** zstd's level 1 alone compresses as tightly as zlib's fastest level but
** about four times faster, and reads back up to twice as fast (measured
** on the bench corpora; bench/README.md).  Compression is on the
** indexer's path and decompression on every search's, so both speeds
** count.
**
** A note is a few kilobytes, too little for zstd to learn much from the
** note alone, while the notes of one person share their words, their
** headings and their link prefixes.  So a bulk load into an empty index (a
** first index, a rebuild) makes a dictionary of the notes it is about to
** write (zip_dict_make): zstd's trainer picks ZIP_DICT_BYTES out of the
** first ZIP_SAMPLE_BYTES of up to ZIP_SAMPLES notes spread over the load
** (8 ms at 45 MB on a slow machine).  Every body of that index is then
** compressed against it: at 45 MB of generated notes the bodies went from
** 26.1 to 22.7 MB.  Every search reads the dictionary once, which costs
** about 1.5 us a kilobyte (page faults, mostly), so it is kept small: the
** samples used as they are (no training), 121 KB of them, gave 24.0 MB and
** cost each search 0.2 ms.  It is kept in meta('zdict'), written in the
** load's own transaction, and used by every later update (zip_dict_load);
** it is made anew only when the index holds no body, so no body ever
** outlives its dictionary.  An index begun with a few notes has none, and
** its bodies are plain zstd frames: both kinds read back the same way.
**
** Each frame names its dictionary by the id zstd writes in its header
** (0: none).  Readers get the text back through the SQL function
** unpack(z, len), which the view note_doc applies, so FTS5 (whose
** external content is note_doc) and every query see plain text.  Each
** connection keeps one decompression context and the dictionary it last
** read (the function's user data); a frame naming another one (the
** index was rebuilt by another process since) has unpack() read
** meta('zdict') again, and a frame whose dictionary is not there is a
** damaged row.  Each writer thread has one compression context
** (zip_ctx): contexts are costly to set up, notes are small and many.
*/
#include <stdlib.h>
#include <string.h>
/* ZDICT_trainFromBuffer_fastCover(): zstd calls it experimental; both
** its static and shared libraries export it */
#define ZDICT_STATIC_LINKING_ONLY
#include <zdict.h>
#include <zstd.h>
#include "cnsint.h"

#define ZIP_LEVEL 2
/* fastCover: segments of 200 bytes, 8-byte d-grams counted in 2^16
** buckets; measured on the bench corpora and /usr/share/doc */
#define ZIP_TRAIN_K 200
#define ZIP_TRAIN_D 8
#define ZIP_TRAIN_F 16

struct zip_dict {
  void *bytes;       /* the dictionary as stored in meta('zdict') */
  size_t n;
  ZSTD_CDict *cd;    /* digested for compression, read-only once made */
};

struct zip_ctx {
  ZSTD_CCtx *c;
  const zip_dict *dict; /* borrowed; NULL: plain frames */
};

static zip_dict *dict_digest(void *bytes, size_t n) {
  zip_dict *d = cns_xcalloc(1, sizeof *d);
  d->bytes = bytes;
  d->n = n;
  d->cd = ZSTD_createCDict(bytes, n, ZIP_LEVEL);
  if (!d->cd) cns_oom(n);
  return d;
}

/* Train a dictionary of at most ZIP_DICT_BYTES, and a quarter of the
** samples' bytes, on the samples, with zstd's fastCover at fixed
** parameters (ZIP_TRAIN_K/D/F), and stamp it with our id.  zstd's
** default trainer (ZDICT_trainFromBuffer) tries several segment sizes
** with 4 MB tables each, which cost 76-127 ms on a slow machine, page
** faults mostly, against 5-8 ms for one run with 256 KB tables; the one
** run packed the bodies as tightly (bench/README.md). */
zip_dict *zip_dict_make(const char *samples, const size_t *sizes,
                        unsigned nsamples, unsigned id) {
  size_t total = 0;
  for (unsigned i = 0; i < nsamples; i++) total += sizes[i];
  size_t cap = total / 4 < ZIP_DICT_BYTES ? total / 4 : ZIP_DICT_BYTES;
  if (nsamples < ZIP_SAMPLES_MIN || cap < 1024) return NULL;
  void *bytes = cns_xmalloc(cap);
  ZDICT_fastCover_params_t p;
  memset(&p, 0, sizeof p);
  p.k = ZIP_TRAIN_K;
  p.d = ZIP_TRAIN_D;
  p.f = ZIP_TRAIN_F;
  p.accel = 1;
  p.splitPoint = 1.0; /* every sample trains, none is held out */
  p.zParams.compressionLevel = ZIP_LEVEL;
  p.zParams.dictID = id;
  size_t n = ZDICT_trainFromBuffer_fastCover(bytes, cap, samples, sizes,
                                             nsamples, p);
  if (ZDICT_isError(n)) { /* samples too alike, or too small */
    free(bytes);
    return NULL;
  }
  return dict_digest(bytes, n);
}

zip_dict *zip_dict_load(const void *bytes, size_t n) {
  if (!bytes || ZSTD_getDictID_fromDict(bytes, n) == 0) return NULL;
  void *copy = cns_xmalloc(n);
  memcpy(copy, bytes, n);
  return dict_digest(copy, n);
}

const void *zip_dict_bytes(const zip_dict *d, size_t *n) {
  *n = d->n;
  return d->bytes;
}

unsigned zip_dict_id(const zip_dict *d) {
  return ZSTD_getDictID_fromDict(d->bytes, d->n);
}

void zip_dict_free(zip_dict *d) {
  if (!d) return;
  ZSTD_freeCDict(d->cd);
  free(d->bytes);
  free(d);
}

zip_ctx *zip_new(const zip_dict *dict) {
  zip_ctx *z = cns_xcalloc(1, sizeof *z);
  z->c = ZSTD_createCCtx();
  if (!z->c) cns_oom(0);
  z->dict = dict;
  return z;
}

void zip_free(zip_ctx *z) {
  if (!z) return;
  ZSTD_freeCCtx(z->c);
  free(z);
}

void zip_pack(zip_ctx *z, const char *text, size_t len, buf *out) {
  size_t cap = ZSTD_compressBound(len);
  buf_reset(out);
  buf_add(out, "", 0);
  if (out->cap < cap + 1) {
    out->p = cns_xrealloc(out->p, cap + 1);
    out->cap = cap + 1;
  }
  size_t n = z->dict ? ZSTD_compress_usingCDict(z->c, out->p, cap, text, len,
                                                z->dict->cd)
                     : ZSTD_compressCCtx(z->c, out->p, cap, text, len,
                                         ZIP_LEVEL);
  /* only an out-of-memory can fail with a ZSTD_compressBound() buffer */
  if (ZSTD_isError(n)) cns_oom(0);
  out->len = n;
}

/* ---- reading back --------------------------------------------------- */

typedef struct unzip {
  ZSTD_DCtx *d;
  ZSTD_DDict *dict;  /* the dictionary last read from meta, or NULL */
  unsigned id;       /* its id */
} unzip;

/* Hand the bytes of meta('zdict') to use() while they are valid: use()'s
** code, SQLITE_DONE when the index has no dictionary, or the error
** reading it gave (a busy or unreadable file is not a damaged row). */
static int read_stored(sqlite3 *db, int (*use)(void *, const void *, size_t),
                       void *arg) {
  sqlite3_stmt *st;
  int rc = sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key='zdict'",
                              -1, &st, NULL);
  if (rc != SQLITE_OK) return rc;
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    rc = use(arg, sqlite3_column_blob(st, 0),
             (size_t)sqlite3_column_bytes(st, 0));
  int frc = sqlite3_finalize(st);
  return frc == SQLITE_OK ? rc : frc;
}

static int use_for_writing(void *arg, const void *b, size_t n) {
  *(zip_dict **)arg = zip_dict_load(b, n); /* NULL: none usable */
  return SQLITE_OK;
}

int zip_dict_read(sqlite3 *db, zip_dict **out) {
  *out = NULL;
  int rc = read_stored(db, use_for_writing, out);
  if (rc != SQLITE_OK && rc != SQLITE_DONE) {
    zip_dict_free(*out);
    *out = NULL;
  }
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

typedef struct wanted {
  unzip *u;
  unsigned id;
} wanted;

static int use_for_reading(void *arg, const void *b, size_t n) {
  wanted *w = arg;
  if (!b || ZSTD_getDictID_fromDict(b, n) != w->id) return SQLITE_CORRUPT;
  ZSTD_DDict *dd = ZSTD_createDDict(b, n);
  if (!dd) return SQLITE_NOMEM;
  ZSTD_freeDDict(w->u->dict);
  w->u->dict = dd;
  w->u->id = w->id;
  return SQLITE_OK;
}

/* Read meta('zdict') into u if it is the dictionary `id`: SQLITE_OK, or
** SQLITE_CORRUPT when the index holds another one or none, or the error
** reading it gave. */
static int load_dict(sqlite3 *db, unzip *u, unsigned id) {
  wanted w = {u, id};
  int rc = read_stored(db, use_for_reading, &w);
  return rc == SQLITE_DONE ? SQLITE_CORRUPT : rc;
}

/* Decompress into a new buffer of len bytes, then a NUL and RX_SLACK
** zeros: a search runs PCRE2 on the text as SQLite hands it back (this
** very buffer), and PCRE2's JIT may read that far past the subject's end
** (valgrind saw 5 bytes past a note). */
static char *unpack(sqlite3 *db, unzip *u, const void *z, size_t zlen,
                    size_t len, int *rc) {
  unsigned id = ZSTD_getDictID_fromFrame(z, zlen);
  *rc = id && id != u->id ? load_dict(db, u, id) : SQLITE_OK;
  if (*rc != SQLITE_OK) return NULL;
  char *out = cns_xmalloc(len + 1 + RX_SLACK);
  size_t n = ZSTD_decompress_usingDDict(u->d, out, len, z, zlen,
                                        id ? u->dict : NULL);
  if (ZSTD_isError(n) || n != len) {
    free(out);
    *rc = SQLITE_CORRUPT;
    return NULL;
  }
  memset(out + len, 0, 1 + RX_SLACK);
  return out;
}

/* The text as the trigram tokenizer must see it: FTS5 stops at a NUL and
** reads invalid UTF-8 differently from PCRE2 (a stray continuation byte
** swallows the character before it), so both become spaces.  Every
** literal a regex requires is valid UTF-8 without NUL, so it is still
** found where it occurs. */
void zip_plain_for_trigrams(char *t, size_t n) {
  size_t i = 0;
  while (i < n) {
    size_t l = t[i] ? utf8_len(t + i, n - i) : 0;
    if (l == 0) t[i++] = ' ';
    else i += l;
  }
}

/* unpack(z, len[, plain]): the text, or an error for a damaged row.
** With a third argument, the text for the trigram index (above). */
static void unpack_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  const void *z = sqlite3_value_blob(argv[0]);
  size_t zlen = (size_t)sqlite3_value_bytes(argv[0]);
  sqlite3_int64 len = sqlite3_value_int64(argv[1]);
  if (len < 0 || (!z && len > 0)) {
    sqlite3_result_error(ctx, "index row damaged: bad note length", -1);
    return;
  }
  int rc;
  char *text = unpack(sqlite3_context_db_handle(ctx), sqlite3_user_data(ctx),
                      z ? z : "", zlen, (size_t)len, &rc);
  if (!text) {
    sqlite3_result_error_code(ctx, rc);
    return;
  }
  if (argc > 2) zip_plain_for_trigrams(text, (size_t)len);
  sqlite3_result_text64(ctx, text, (sqlite3_uint64)len, free, SQLITE_UTF8);
}

static void free_unzip(void *p) {
  unzip *u = p;
  ZSTD_freeDDict(u->dict);
  ZSTD_freeDCtx(u->d);
  free(u);
}

/* Both arities share one context, freed with the 3-argument function
** (SQLite calls xDestroy once per registration). */
int zip_register(sqlite3 *db) {
  int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
  unzip *u = cns_xcalloc(1, sizeof *u);
  u->d = ZSTD_createDCtx();
  if (!u->d) {
    free(u);
    return SQLITE_NOMEM;
  }
  int rc = sqlite3_create_function_v2(db, "unpack", 3, flags, u, unpack_fn,
                                      NULL, NULL, free_unzip);
  if (rc != SQLITE_OK) return rc; /* xDestroy has run */
  return sqlite3_create_function_v2(db, "unpack", 2, flags, u, unpack_fn,
                                    NULL, NULL, NULL);
}
