/*
** zip.c -- notes are kept compressed in the index.
**
** The index holds every note's text (snippets, positions and regexes need
** it without touching the notes folder), and markdown compresses three
** to one.  Bodies are stored zlib-compressed at the fastest level, which
** costs less CPU than the page writes it saves; readers get the text
** back through the SQL function inflate(bodyz, len), which the view
** note_doc applies, so FTS5 (whose external content is note_doc) and
** every query see plain text.
*/
#include <stdlib.h>
#include <zlib.h>
#include "cnsint.h"

void zip_deflate(const char *text, size_t len, buf *out) {
  uLongf cap = compressBound((uLong)len);
  buf_reset(out);
  buf_add(out, "", 0);
  if (out->cap < cap + 1) {
    out->p = cns_xrealloc(out->p, cap + 1);
    out->cap = cap + 1;
  }
  if (compress2((Bytef *)out->p, &cap, (const Bytef *)text, (uLong)len,
                Z_BEST_SPEED) != Z_OK)
    cap = 0; /* cannot happen with a compressBound() buffer */
  out->len = cap;
}

char *zip_inflate(const void *z, size_t zlen, size_t len) {
  char *out = cns_xmalloc(len + 1);
  uLongf n = (uLongf)len;
  if (uncompress((Bytef *)out, &n, (const Bytef *)z, (uLong)zlen) != Z_OK ||
      n != len) {
    free(out);
    return NULL;
  }
  out[len] = 0;
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

/* inflate(bodyz, len[, plain]): the text, or an error for a damaged row.
** With a third argument, the text for the trigram index (above). */
static void inflate_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  const void *z = sqlite3_value_blob(argv[0]);
  size_t zlen = (size_t)sqlite3_value_bytes(argv[0]);
  sqlite3_int64 len = sqlite3_value_int64(argv[1]);
  if (len < 0 || (!z && len > 0)) {
    sqlite3_result_error(ctx, "index row damaged: bad note length", -1);
    return;
  }
  char *text = zip_inflate(z ? z : "", zlen, (size_t)len);
  if (!text) {
    sqlite3_result_error_code(ctx, SQLITE_CORRUPT);
    return;
  }
  if (argc > 2) zip_plain_for_trigrams(text, (size_t)len);
  sqlite3_result_text64(ctx, text, (sqlite3_uint64)len, free, SQLITE_UTF8);
}

int zip_register(sqlite3 *db) {
  int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
  int rc = sqlite3_create_function(db, "inflate", 2, flags, NULL, inflate_fn,
                                   NULL, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_create_function(db, "inflate", 3, flags, NULL, inflate_fn,
                                 NULL, NULL);
  return rc;
}
