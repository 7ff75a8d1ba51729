/*
** mem.c -- allocation that does not fail.
**
** cnsearch follows Redis here: running out of memory is not an error a
** caller can do anything useful about, so every allocation goes through
** these wrappers, which end the process with a message instead of
** returning NULL.  That keeps "no unchecked malloc" true everywhere
** without a NULL test after every call.  Everything they return is freed
** with free().
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cnsint.h"

void cns_oom(size_t n) {
  fprintf(stderr, "cnsearch: out of memory (wanted %zu bytes)\n", n);
  abort();
}

void *cns_xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) cns_oom(n);
  return p;
}

void *cns_xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (!p) cns_oom(n * size);
  return p;
}

void *cns_xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q) cns_oom(n);
  return q;
}

char *cns_xstrndup(const char *s, size_t n) {
  char *p = cns_xmalloc(n + 1);
  memcpy(p, s, n);
  p[n] = 0;
  return p;
}

char *cns_xstrdup(const char *s) {
  return cns_xstrndup(s, strlen(s));
}

char *cns_xasprintf(const char *fmt, ...) {
  buf b = BUF_INIT;
  va_list ap;
  va_start(ap, fmt);
  buf_vaddf(&b, fmt, ap);
  va_end(ap);
  return buf_detach(&b);
}

int cns_cmp_id(const void *a, const void *b) {
  long long x = *(const long long *)a, y = *(const long long *)b;
  return (x > y) - (x < y);
}
