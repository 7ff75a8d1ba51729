/*
** fuzz_md.c -- libFuzzer target for indexer/md.c.
**
** Any bytes are a note.  md_note_parse() must return CNS_OK (or CNS_ELIMIT
** with the note emptied) and keep the promises cnsint.h makes, which the
** rest of the engine relies on without checking:
**
**   - the title is never NULL; body_off <= len;
**   - sections start at 0, are contiguous and in order, tile the input
**     exactly (lengths sum to len), every one after the first is non-empty
**     and starts at or after body_off, levels are 0..6 (1..6 after the
**     first), headings are non-NULL and hold no newline, and each
**     section's line is the line of its first byte;
**   - every link lies inside the note and inside its section, at or after
**     body_off, with the line and byte column of its first byte, a known
**     kind, and non-NULL text and url;
**   - tags, when present, are single-space separated non-empty words.
**
** Lines are counted independently here (a line-start table built once),
** so a disagreement with md.c's line map is a finding.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cnsint.h"

static void die(const char *what, const uint8_t *t, size_t len) {
  fprintf(stderr, "fuzz_md: invariant broken: %s (input %zu bytes)\n", what,
          len);
  (void)t;
  abort();
}

#define ENSURE(cond) do { if (!(cond)) die(#cond, data, size); } while (0)

/* Line starts: ls[k] is where line k+1 begins.  A line ends at '\n' or at
** a '\r' not followed by '\n', as md.c and snippet.c count them. */
static size_t *line_starts(const uint8_t *t, size_t len, size_t *n) {
  size_t cap = 64, k = 0;
  size_t *ls = malloc(cap * sizeof *ls);
  ls[k++] = 0;
  for (size_t i = 0; i < len; i++) {
    if (t[i] == '\n' || (t[i] == '\r' && (i + 1 >= len || t[i + 1] != '\n'))) {
      if (k == cap) ls = realloc(ls, (cap *= 2) * sizeof *ls);
      ls[k++] = i + 1;
    }
  }
  *n = k;
  return ls;
}

/* 1-based line and byte column of off. */
static void linecol(const size_t *ls, size_t nls, size_t off, long *line,
                    long *col) {
  size_t lo = 0, hi = nls; /* last ls[i] <= off */
  while (hi - lo > 1) {
    size_t mid = lo + (hi - lo) / 2;
    if (ls[mid] <= off) lo = mid;
    else hi = mid;
  }
  *line = (long)lo + 1;
  *col = (long)(off - ls[lo]) + 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* A copy of exactly size bytes, so ASan sees any read past the end. */
  char *t = malloc(size ? size : 1);
  if (size) memcpy(t, data, size);
  md_note n;
  int rc = md_note_parse(t, size, "fallback", &n);
  ENSURE(rc == CNS_OK || rc == CNS_ELIMIT);
  if (rc != CNS_OK) {
    ENSURE(n.sections == NULL && n.links == NULL && n.title == NULL);
    free(t);
    return 0;
  }
  size_t nls;
  size_t *ls = line_starts(data, size, &nls);

  ENSURE(n.title != NULL);
  ENSURE(n.body_off <= size);
  ENSURE(n.nsections >= 1 && n.sections != NULL);
  ENSURE(n.sections[0].off == 0);
  size_t sum = 0;
  for (size_t i = 0; i < n.nsections; i++) {
    const md_section *s = &n.sections[i];
    ENSURE(s->heading != NULL);
    ENSURE(strpbrk(s->heading, "\r\n") == NULL);
    ENSURE(s->level >= 0 && s->level <= 6);
    if (i > 0) {
      ENSURE(s->len > 0);
      ENSURE(s->off >= n.body_off);
      ENSURE(s->level >= 1);
      ENSURE(s->off == n.sections[i - 1].off + n.sections[i - 1].len);
    }
    ENSURE(s->off <= size && s->len <= size - s->off);
    long line, col;
    linecol(ls, nls, s->off, &line, &col);
    ENSURE(s->line == line);
    /* a heading's section starts its line (or the body, after a BOM) */
    ENSURE(i == 0 || col == 1 || s->off == n.body_off);
    sum += s->len;
  }
  ENSURE(sum == size);

  for (size_t i = 0; i < n.nlinks; i++) {
    const md_link *l = &n.links[i];
    ENSURE(l->url != NULL && l->text != NULL);
    ENSURE(!strpbrk(l->text, "\r\n") && !strpbrk(l->url, "\r\n"));
    ENSURE(!l->title || !strpbrk(l->title, "\r\n"));
    ENSURE(l->kind == MD_LINK_INLINE || l->kind == MD_LINK_IMAGE ||
           l->kind == MD_LINK_WIKI);
    ENSURE(l->off < size);
    ENSURE(l->off >= n.body_off);
    ENSURE(l->section >= 0 && (size_t)l->section < n.nsections);
    const md_section *s = &n.sections[l->section];
    ENSURE(l->off >= s->off && l->off < s->off + s->len);
    long line, col;
    linecol(ls, nls, l->off, &line, &col);
    ENSURE(l->line == line);
    ENSURE(l->col == col);
  }

  if (n.tags) {
    const char *g = n.tags;
    ENSURE(*g && *g != ' ');
    for (; *g; g++) {
      ENSURE(*g != '\n' && *g != '\t' && *g != '\r');
      if (*g == ' ') ENSURE(g[1] && g[1] != ' ');
    }
  }
  free(ls);
  md_note_free(&n);
  free(t);
  return 0;
}
