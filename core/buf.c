/*
** buf.c -- the growable byte buffer used for every string built at run
** time (SQL, snippets, messages, JSON).
**
** Invariant: once anything has been added, p[len] == 0, so p can be used
** as a C string whenever the content has no NUL.  Growth doubles, so
** appending is amortised O(1).  A zeroed buf is empty and valid.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cnsint.h"

static void grow(buf *b, size_t extra) {
  size_t need = b->len + extra + 1;
  if (need <= b->cap) return;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < need) cap *= 2;
  b->p = cns_xrealloc(b->p, cap);
  b->cap = cap;
}

void buf_add(buf *b, const void *data, size_t n) {
  grow(b, n);
  if (n) memcpy(b->p + b->len, data, n);
  b->len += n;
  b->p[b->len] = 0;
}

void buf_adds(buf *b, const char *s) { buf_add(b, s, strlen(s)); }

void buf_addc(buf *b, int c) {
  char ch = (char)c;
  buf_add(b, &ch, 1);
}

void buf_vaddf(buf *b, const char *fmt, va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (n < 0) return;
  grow(b, (size_t)n);
  vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
  b->len += (size_t)n;
}

void buf_addf(buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  buf_vaddf(b, fmt, ap);
  va_end(ap);
}

void buf_reset(buf *b) {
  b->len = 0;
  if (b->p) b->p[0] = 0;
}

char *buf_detach(buf *b) {
  char *p = b->p ? b->p : cns_xstrdup("");
  b->p = NULL;
  b->len = b->cap = 0;
  return p;
}

void buf_free(buf *b) {
  free(b->p);
  b->p = NULL;
  b->len = b->cap = 0;
}

const char *buf_str(const buf *b) { return b->p ? b->p : ""; }

/* Length of the valid UTF-8 sequence at p (n bytes left), or 0. */
size_t utf8_len(const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s;
  if (p[0] < 0x80) return 1;
  size_t l = p[0] >= 0xF5 ? 0 : p[0] >= 0xF0 ? 4 : p[0] >= 0xE0 ? 3
           : p[0] >= 0xC2 ? 2 : 0;
  if (l == 0 || l > n) return 0;
  for (size_t i = 1; i < l; i++)
    if ((p[i] & 0xC0) != 0x80) return 0;
  if (l == 3 && ((p[0] == 0xE0 && p[1] < 0xA0) || (p[0] == 0xED && p[1] >= 0xA0)))
    return 0;
  if (l == 4 && ((p[0] == 0xF0 && p[1] < 0x90) || (p[0] == 0xF4 && p[1] >= 0x90)))
    return 0;
  return l;
}
