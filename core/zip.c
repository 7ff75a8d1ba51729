/*
** zip.c -- notes are kept compressed in the index.
**
** The index holds every note's text (snippets, positions and regexes need
** it without touching the notes folder), and markdown compresses two or
** three to one.  Bodies are stored as zstd frames at level 1: on notes it
** compresses as tightly as zlib's fastest level but about four times
** faster, and reads back up to twice as fast (measured on the bench
** corpora; bench/README.md).  Compression is on the indexer's path and
** decompression on every search's, so both speeds count.
**
** Readers get the text back through the SQL function unpack(z, len),
** which the view note_doc applies, so FTS5 (whose external content is
** note_doc) and every query see plain text.  Each connection keeps one
** decompression context (the function's user data) and each writer one
** compression context (zip_ctx): contexts are costly to set up, notes
** are small and many.
*/
#include <stdlib.h>
#include <string.h>
#include <zstd.h>
#include "cnsint.h"

#define ZIP_LEVEL 1

struct zip_ctx {
  ZSTD_CCtx *c;
};

zip_ctx *zip_new(void) {
  zip_ctx *z = cns_xcalloc(1, sizeof *z);
  z->c = ZSTD_createCCtx();
  if (!z->c) cns_oom(0);
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
  size_t n = ZSTD_compressCCtx(z->c, out->p, cap, text, len, ZIP_LEVEL);
  /* only an out-of-memory can fail with a ZSTD_compressBound() buffer */
  if (ZSTD_isError(n)) cns_oom(0);
  out->len = n;
}

/* Decompress into a new buffer of len bytes, then a NUL and RX_SLACK
** zeros: a search runs PCRE2 on the text as SQLite hands it back (this
** very buffer), and PCRE2's JIT may read that far past the subject's end
** (valgrind saw 5 bytes past a note). */
static char *unpack(ZSTD_DCtx *d, const void *z, size_t zlen, size_t len) {
  char *out = cns_xmalloc(len + 1 + RX_SLACK);
  size_t n = ZSTD_decompressDCtx(d, out, len, z, zlen);
  if (ZSTD_isError(n) || n != len) {
    free(out);
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
  char *text = unpack(sqlite3_user_data(ctx), z ? z : "", zlen, (size_t)len);
  if (!text) {
    sqlite3_result_error_code(ctx, SQLITE_CORRUPT);
    return;
  }
  if (argc > 2) zip_plain_for_trigrams(text, (size_t)len);
  sqlite3_result_text64(ctx, text, (sqlite3_uint64)len, free, SQLITE_UTF8);
}

static void free_dctx(void *d) { ZSTD_freeDCtx(d); }

/* Both arities share one context, freed with the 3-argument function
** (SQLite calls xDestroy once per registration). */
int zip_register(sqlite3 *db) {
  int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
  ZSTD_DCtx *d = ZSTD_createDCtx();
  if (!d) return SQLITE_NOMEM;
  int rc = sqlite3_create_function_v2(db, "unpack", 3, flags, d, unpack_fn,
                                      NULL, NULL, free_dctx);
  if (rc != SQLITE_OK) return rc; /* xDestroy has run */
  return sqlite3_create_function_v2(db, "unpack", 2, flags, d, unpack_fn,
                                    NULL, NULL, NULL);
}
