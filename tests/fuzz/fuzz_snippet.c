/*
** fuzz_snippet.c -- libFuzzer target for query/snippet.c.
**
** Input layout: 2 bytes width (int16, may be negative), 1 byte range
** count (0..7), 4 bytes per range, then the note text.  Ranges are made
** the way search.c makes them: start <= end <= len (start from the first
** two bytes, length from the next two: short like a word, or long like a
** regex match).  Checks:
**
**   - snip_linecol() agrees with a naive count ('\n', lone '\r', CRLF as
**     one end; the BOM not counted on line 1);
**   - snip_make() output is one line: no byte below 0x20 and no DEL, no
**     leading or trailing space, never longer than the note; marks are
**     non-empty [start,end) pairs inside it, at most one per range;
**   - with one range that holds a non-space byte and ends on a character
**     boundary, there is exactly one mark, and when the range holds no
**     white space at all the mark covers exactly its bytes;
**   - the same text with every invalid UTF-8 byte replaced by '?' (same
**     length, same ranges) gives valid UTF-8 output, with marks on
**     character boundaries when the ranges are: a snippet never cuts a
**     valid sequence.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cnsint.h"

static void die(const char *what) {
  fprintf(stderr, "fuzz_snippet: invariant broken: %s\n", what);
  abort();
}

#define ENSURE(cond) do { if (!(cond)) die(#cond); } while (0)

static int is_ws(unsigned char c) { return c <= 0x20 || c == 0x7f; }
static int is_cont(unsigned char c) { return (c & 0xc0) == 0x80; }

/* Length of the valid UTF-8 sequence at s[0..n), or 0 if invalid. */
static size_t valid_seq(const unsigned char *s, size_t n) {
  unsigned c = s[0];
  size_t k;
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) k = 2;
  else if (c >= 0xe0 && c <= 0xef) k = 3;
  else if (c >= 0xf0 && c <= 0xf4) k = 4;
  else return 0;
  if (k > n) return 0;
  unsigned long cp = c & (0x7f >> k);
  for (size_t j = 1; j < k; j++) {
    if (!is_cont(s[j])) return 0;
    cp = (cp << 6) | (s[j] & 0x3f);
  }
  if ((k == 3 && cp < 0x800) || (k == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
      (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return k;
}

static int valid_utf8(const char *s, size_t n) {
  for (size_t i = 0; i < n;) {
    size_t k = valid_seq((const unsigned char *)s + i, n - i);
    if (!k) return 0;
    i += k;
  }
  return 1;
}

static void naive_linecol(const char *t, size_t len, size_t off, long *line,
                          long *col) {
  long l = 1;
  size_t ls = 0;
  for (size_t i = 0; i < off; i++)
    if (t[i] == '\n' || (t[i] == '\r' && (i + 1 >= len || t[i + 1] != '\n'))) {
      l++;
      ls = i + 1;
    }
  if (l == 1 && len >= 3 && memcmp(t, "\xEF\xBB\xBF", 3) == 0 && off >= 3)
    ls = 3;
  *line = l;
  *col = (long)(off - ls) + 1;
}

/* Whether off is on a character boundary of t (or at its end). */
static int boundary(const char *t, size_t len, size_t off) {
  return off >= len || !is_cont((unsigned char)t[off]);
}

/* One snip_make() call and the checks that hold for any text. */
static void snip(const char *t, size_t len, const snip_range *r, size_t nr,
                 int width, int utf8) {
  buf out = BUF_INIT;
  size_t *marks = NULL, nmarks = 0;
  snip_make(t, len, r, nr, width, &out, &marks, &nmarks);
  const char *o = buf_str(&out);
  ENSURE(strlen(o) == out.len);
  ENSURE(out.len <= len);
  for (size_t i = 0; i < out.len; i++) {
    unsigned char c = (unsigned char)o[i];
    ENSURE(c >= 0x20 && c != 0x7f);
  }
  if (out.len) ENSURE(o[0] != ' ' && o[out.len - 1] != ' ');
  ENSURE(nmarks <= nr);
  for (size_t k = 0; k < nmarks; k++) {
    ENSURE(marks[2 * k] < marks[2 * k + 1]);
    ENSURE(marks[2 * k + 1] <= out.len);
  }
  int aligned = 1; /* as the tokenizer's and PCRE2's ranges are */
  for (size_t k = 0; k < nr; k++)
    aligned &= boundary(t, len, r[k].start) && boundary(t, len, r[k].end);
  if (utf8) ENSURE(valid_utf8(o, out.len));
  if (utf8 && aligned) {
    for (size_t k = 0; k < nmarks; k++) {
      ENSURE(boundary(o, out.len, marks[2 * k]));
      ENSURE(boundary(o, out.len, marks[2 * k + 1]));
    }
  }
  /* One range: it is always in its own snippet. */
  if (nr == 1 && r[0].start < r[0].end && boundary(t, len, r[0].end) &&
      boundary(t, len, r[0].start)) {
    int any = 0, all = 1;
    for (size_t i = r[0].start; i < r[0].end; i++) {
      if (is_ws((unsigned char)t[i])) all = 0;
      else any = 1;
    }
    if (any) ENSURE(nmarks == 1);
    if (all && nmarks == 1) {
      ENSURE(marks[1] - marks[0] == r[0].end - r[0].start);
      ENSURE(memcmp(o + marks[0], t + r[0].start, marks[1] - marks[0]) == 0);
    }
  }
  free(marks);
  buf_free(&out);
}

static void check_all(const char *t, size_t len, const snip_range *r,
                      size_t nr, int width, int utf8) {
  for (size_t k = 0; k < nr; k++) {
    long line, col, nl, nc;
    snip_linecol(t, len, 0, 1, r[k].start, &line, &col);
    naive_linecol(t, len, r[k].start, &nl, &nc);
    ENSURE(line == nl && col == nc);
    snip_linecol(t, len, 0, 1, r[k].end, &line, &col);
    naive_linecol(t, len, r[k].end, &nl, &nc);
    ENSURE(line == nl && col == nc);
  }
  snip(t, len, r, nr, width, utf8);
  if (nr > 1) snip(t, len, r, 1, width, utf8);
  for (size_t k = 1; k < nr; k++) snip(t, len, r + k, 1, width, utf8);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 3) return 0;
  int width = (int16_t)(data[0] | data[1] << 8);
  size_t nr = data[2] % 8, hdr = 3 + 4 * nr;
  if (size < hdr) return 0;
  size_t len = size - hdr;
  char *t = malloc(len ? len : 1); /* exactly len bytes */
  memcpy(t, data + hdr, len);
  snip_range r[8];
  for (size_t k = 0; k < nr; k++) {
    const uint8_t *p = data + 3 + 4 * k;
    unsigned a = p[0] | p[1] << 8, b = p[2] | p[3] << 8;
    size_t s = a % (len + 1), room = len - s;
    size_t n = (b & 0x8000) ? (b & 0x7fff) % (room + 1)
                            : (b % 64 < room ? b % 64 : room);
    r[k].start = s;
    r[k].end = s + n;
  }
  check_all(t, len, r, nr, width, valid_utf8(t, len));
  /* Every invalid byte as '?': all sequences valid, offsets unchanged. */
  for (size_t i = 0; i < len;) {
    size_t k = valid_seq((unsigned char *)t + i, len - i);
    if (!k) t[i++] = '?';
    else i += k;
  }
  check_all(t, len, r, nr, width, 1);
  free(t);
  return 0;
}
