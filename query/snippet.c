/*
** snippet.c -- positions and one-line snippets, on one note's text.
**
** Pure functions over (text, len): no I/O, no SQL.  search.c finds the
** byte ranges that matched (words through the tokenizer, regexes through
** PCRE2) and hands them here to become a line:column and a snippet.
**
** Lines: '\n' ends a line, and so does a '\r' not followed by '\n' (old
** Mac files); a CRLF is one line end.  Columns are 1-based bytes, as vim,
** emacs and ripgrep count them; on line 1 a UTF-8 byte order mark is not
** counted, as editors hide it.
**
** A snippet is about `width` bytes of the note around the first range,
** starting at its line's start when that is near, never cutting a UTF-8
** sequence or (when it can help it) a word, with every run of white space
** and control characters folded into one space so it prints on one line.
** Marks say where each range landed in the snippet.
*/
#include <stdlib.h>
#include <string.h>
#include "cnsint.h"

static int is_cont(unsigned char c) { return (c & 0xC0) == 0x80; }

static int is_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
         c == '\v' || c < 0x20 || c == 0x7f;
}

/* Where the line holding off (<= len) starts. */
static size_t line_start(const char *t, size_t len, size_t off) {
  while (off > 0 && t[off - 1] != '\n' &&
         !(t[off - 1] == '\r' && (off >= len || t[off] != '\n')))
    off--;
  return off;
}

void snip_linecol(const char *t, size_t len, size_t from, long from_line,
                  size_t off, long *line, long *col) {
  long ln = from_line;
  size_t start = from;
  if (off > len) off = len;
  if (from > off) from = start = 0, ln = 1;
  for (size_t i = from; i < off; i++) {
    if (t[i] == '\n' || (t[i] == '\r' && (i + 1 >= len || t[i + 1] != '\n'))) {
      ln++;
      start = i + 1;
    }
  }
  if (ln == 1 && len >= 3 && memcmp(t, "\xEF\xBB\xBF", 3) == 0 && off >= 3)
    start = 3;
  *line = ln;
  *col = (long)(off - start) + 1;
}

/* Window [*ws, *we) of about width bytes around r. */
static void window(const char *t, size_t len, const snip_range *r, int width,
                   size_t *ws, size_t *we) {
  size_t w = width > 20 ? (size_t)width : 20;
  size_t ls = line_start(t, len, r->start);
  size_t s = r->start - ls <= w / 2 ? ls : r->start - w / 3;
  while (s > 0 && s < len && is_cont((unsigned char)t[s])) s--;
  if (s > ls) { /* do not start inside a word */
    size_t k = s;
    while (k < r->start && !is_space((unsigned char)t[k])) k++;
    if (k < r->start) s = k + 1;
  }
  if (s < 3 && r->start >= 3 && len >= 3 && memcmp(t, "\xEF\xBB\xBF", 3) == 0)
    s = 3; /* a byte order mark is not text */
  size_t e = s + w < len ? s + w : len;
  if (e < r->end) e = r->end < len ? r->end : len;
  if (e < len) { /* end at a word break when one is near */
    size_t k = e;
    while (k > r->end && k > e - 20 && !is_space((unsigned char)t[k])) k--;
    if (k > r->end && is_space((unsigned char)t[k])) e = k;
  }
  while (e < len && e > s && is_cont((unsigned char)t[e])) e--;
  *ws = s;
  *we = e;
}

static void add_mark(size_t **marks, size_t *n, size_t s, size_t e) {
  *marks = cns_xrealloc(*marks, (*n + 1) * 2 * sizeof **marks);
  (*marks)[*n * 2] = s;
  (*marks)[*n * 2 + 1] = e;
  (*n)++;
}

void snip_make(const char *t, size_t len, const snip_range *r, size_t nr,
               int width, buf *out, size_t **marks, size_t *nmarks) {
  size_t ws, we;
  buf_adds(out, "");
  if (nr == 0 || r[0].start > len) return;
  window(t, len, &r[0], width, &ws, &we);
  size_t *map = cns_xmalloc((we - ws + 1) * sizeof *map);
  size_t base = out->len;
  int in_space = 1; /* drop leading space */
  for (size_t i = ws; i < we; i++) {
    map[i - ws] = out->len - base;
    unsigned char c = (unsigned char)t[i];
    if (is_space(c)) {
      if (!in_space) buf_addc(out, ' ');
      in_space = 1;
    } else {
      buf_addc(out, (char)c);
      in_space = 0;
    }
  }
  map[we - ws] = out->len - base;
  while (out->len > base && out->p[out->len - 1] == ' ') out->p[--out->len] = 0;
  for (size_t k = 0; k < nr; k++) {
    if (r[k].start < ws || r[k].end > we || r[k].end <= r[k].start) continue;
    size_t s = map[r[k].start - ws], e = map[r[k].end - ws];
    if (e > out->len - base) e = out->len - base;
    if (s < e) add_mark(marks, nmarks, base + s, base + e);
  }
  free(map);
}
