/*
** print_human.c -- the default output, for people.
**
** Two shapes, chosen by the colour setting, because colour is on exactly
** when someone is looking at a terminal (or asked for it):
**
**   colour on   ripgrep-like groups.  When the path changes, the path on a
**               line of its own (a blank line between groups, none before
**               the first); then per hit "LINE:COL  HEADING", the snippet
**               indented by four spaces with every match in bold red, a
**               "via URL (TITLE)" line for hits found through a linked
**               page, and the score explanation when asked for.  Ranked
**               hits from one note need not be adjacent, so a note can
**               head more than one group.
**   colour off  one self-contained line per hit, for grep, sort and
**               friends: "path:line:col: heading: snippet", with
**               " (via URL)" appended for linked pages; an explanation
**               follows on lines indented by four spaces.
**
** A hit with an empty heading (text before the first heading) shows the
** note's title instead.  Text goes through print_add_text(), so control
** bytes in a note never reach the terminal; paths through
** print_add_path(), which escapes them.  Under --null the path is raw
** and followed by NUL: "path\0line:col: ..." on a line, "path\0\n" as a
** group header.
** Match ranges are taken defensively: sorted, merged and clamped to the
** snippet, so a bad range can cost a highlight but never a crash.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cnsint.h"


typedef struct span {
  size_t start, end;
} span;

typedef struct human_state {
  buf out;
  char *last;          /* path of the current group (colour), owned */
  span *spans;         /* scratch for the current hit's match ranges */
  size_t spans_cap;
} human_state;

static const char *str(const char *s) { return s ? s : ""; }

static const char *label(const cns_hit *h) {
  return h->heading && *h->heading ? h->heading : str(h->title);
}

static void add_str(buf *b, const char *s) { print_add_text(b, s, strlen(s)); }

/* Each line of text on a line of its own, indented by four spaces. */
static void add_indented(buf *b, const char *text) {
  while (*text) {
    const char *nl = strchr(text, '\n');
    size_t n = nl ? (size_t)(nl - text) : strlen(text);
    buf_adds(b, "    ");
    print_add_text(b, text, n);
    buf_addc(b, '\n');
    text += n + (nl != NULL);
  }
}

static int span_cmp(const void *a, const void *b) {
  const span *x = a, *y = b;
  return x->start < y->start ? -1 : x->start > y->start;
}

/* The hit's match ranges clamped to len, sorted and merged, in s->spans;
** returns how many. */
static size_t norm_marks(human_state *s, const cns_hit *h, size_t len) {
  if (!h->marks || !h->nmarks) return 0;
  if (h->nmarks > s->spans_cap) {
    s->spans_cap = h->nmarks;
    s->spans = cns_xrealloc(s->spans, s->spans_cap * sizeof *s->spans);
  }
  size_t n = 0;
  for (size_t k = 0; k < h->nmarks; k++) {
    size_t a = h->marks[2 * k], e = h->marks[2 * k + 1];
    if (e > len) e = len;
    if (a < e) s->spans[n++] = (span){a, e};
  }
  qsort(s->spans, n, sizeof *s->spans, span_cmp);
  size_t m = 0;
  for (size_t k = 0; k < n; k++) {
    if (m && s->spans[k].start <= s->spans[m - 1].end) {
      if (s->spans[k].end > s->spans[m - 1].end)
        s->spans[m - 1].end = s->spans[k].end;
    } else s->spans[m++] = s->spans[k];
  }
  return m;
}

/* The snippet with each match range in the match colour. */
static void add_highlighted(buf *b, human_state *s, const cns_hit *h) {
  const char *snip = str(h->snippet);
  size_t len = strlen(snip), at = 0, n = norm_marks(s, h, len);
  for (size_t k = 0; k < n; k++) {
    print_add_text(b, snip + at, s->spans[k].start - at);
    buf_adds(b, print_sgr_match);
    print_add_text(b, snip + s->spans[k].start,
                   s->spans[k].end - s->spans[k].start);
    buf_adds(b, print_sgr_reset);
    at = s->spans[k].end;
  }
  print_add_text(b, snip + at, len - at);
}

/* A new group's header when the path differs from the last hit's. */
static void add_group(printer *p, human_state *s, const cns_hit *h) {
  const char *path = str(h->path);
  if (s->last && strcmp(s->last, path) == 0) return;
  if (s->last) buf_addc(&s->out, '\n');
  free(s->last);
  s->last = cns_xstrdup(path);
  buf_adds(&s->out, print_sgr_path);
  print_add_path(&s->out, p, path);
  buf_adds(&s->out, print_sgr_reset);
  if (p->null_sep) buf_addc(&s->out, 0);
  buf_addc(&s->out, '\n');
}

static void hit_grouped(printer *p, const cns_hit *h) {
  human_state *s = p->state;
  buf *b = &s->out;
  add_group(p, s, h);
  buf_addf(b, "%s%ld%s:%ld  %s", print_sgr_line, h->line, print_sgr_reset,
           h->column, print_sgr_heading);
  add_str(b, label(h));
  buf_adds(b, print_sgr_reset);
  buf_adds(b, "\n    ");
  add_highlighted(b, s, h);
  buf_addc(b, '\n');
  if (h->via_url) {
    buf_adds(b, "    via ");
    add_str(b, h->via_url);
    if (h->via_title && *h->via_title) {
      buf_adds(b, " (");
      add_str(b, h->via_title);
      buf_addc(b, ')');
    }
    buf_addc(b, '\n');
  }
  if (h->explain) add_indented(b, h->explain);
  print_emit(b);
}

static void hit_line(printer *p, const cns_hit *h) {
  human_state *s = p->state;
  buf *b = &s->out;
  print_add_path(b, p, str(h->path));
  buf_addc(b, p->null_sep ? 0 : ':');
  buf_addf(b, "%ld:%ld: ", h->line, h->column);
  add_str(b, label(h));
  buf_adds(b, ": ");
  add_str(b, str(h->snippet));
  if (h->via_url) {
    buf_adds(b, " (via ");
    add_str(b, h->via_url);
    buf_addc(b, ')');
  }
  buf_addc(b, '\n');
  if (h->explain) add_indented(b, h->explain);
  print_emit(b);
}

static void human_begin(printer *p) { print_open(p->out); }

static void human_hit(printer *p, const cns_hit *h) {
  if (p->color) hit_grouped(p, h);
  else hit_line(p, h);
}

static void human_end(printer *p) { print_flush(); }

static void human_free(printer *p) {
  if (!p) return;
  human_state *s = p->state;
  buf_free(&s->out);
  free(s->last);
  free(s->spans);
  free(s);
  free(p);
}

printer *print_human_new(void) {
  printer *p = cns_xcalloc(1, sizeof *p);
  p->begin = human_begin;
  p->hit = human_hit;
  p->end = human_end;
  p->free = human_free;
  p->state = cns_xcalloc(1, sizeof(human_state));
  return p;
}
