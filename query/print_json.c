/*
** print_json.c -- JSON Lines: one object per hit, for editors and scripts.
**
** The versioned machine format (notmuch's lesson: a front end needs one
** format that does not change under it), documented field by field in
** docs/json.md.  Every line is a complete object with "type":"hit" and
** "format_version":1; begin and end write nothing, so the output is pure
** hit lines and `wc -l` counts hits.  New fields may be added within a
** version; removing or changing one bumps format_version.
**
** Everything here must be valid JSON whatever is in the notes: strings go
** through print_add_json() (strict UTF-8, U+FFFD for each invalid byte),
** a score that is not finite is written as null (printf would write
** "inf"), and numbers are formatted so that a decimal comma from the
** locale can never appear.  "matches" are byte ranges into the snippet as
** the reader decodes it, so they are remapped with print_json_offset()
** when invalid bytes were replaced.  Colour and --null do not apply.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cnsint.h"


#define JSON_FORMAT_VERSION 1

/* %.6g, or null when x is not finite; any character the locale may have
** put in place of the decimal point becomes '.'. */
static void add_number(buf *b, double x) {
  char tmp[64];
  if (!isfinite(x)) { buf_adds(b, "null"); return; }
  snprintf(tmp, sizeof tmp, "%.6g", x);
  for (char *c = tmp; *c; c++)
    if (!strchr("0123456789eE+-", *c)) *c = '.';
  buf_adds(b, tmp);
}

/* ,"key":  */
static void add_key(buf *b, const char *key) {
  buf_addf(b, ",\"%s\":", key);
}

static void add_matches(buf *b, const cns_hit *h) {
  const char *snip = h->snippet ? h->snippet : "";
  buf_addc(b, '[');
  for (size_t k = 0; h->marks && k < h->nmarks; k++) {
    size_t start = print_json_offset(snip, h->marks[2 * k]);
    size_t end = print_json_offset(snip, h->marks[2 * k + 1]);
    if (end < start) end = start;
    buf_addf(b, "%s[%zu,%zu]", k ? "," : "", start, end);
  }
  buf_addc(b, ']');
}

static void add_via(buf *b, const cns_hit *h) {
  if (!h->via_url) { buf_adds(b, "null"); return; }
  buf_adds(b, "{\"url\":");
  print_add_json(b, h->via_url);
  buf_adds(b, ",\"title\":");
  print_add_json(b, h->via_title);
  buf_adds(b, ",\"anchor\":");
  print_add_json(b, h->via_text);
  buf_addc(b, '}');
}

static void add_path(buf *b, const printer *p, const cns_hit *h) {
  char *path = print_path(p, h->path);
  print_add_json(b, path);
  free(path);
}

static void json_hit(printer *p, const cns_hit *h) {
  buf *b = p->state;
  buf_addf(b, "{\"type\":\"hit\",\"format_version\":%d", JSON_FORMAT_VERSION);
  add_key(b, "path"); add_path(b, p, h);
  add_key(b, "line"); buf_addf(b, "%ld", h->line);
  add_key(b, "column"); buf_addf(b, "%ld", h->column);
  add_key(b, "end_column"); buf_addf(b, "%ld", h->end_column);
  add_key(b, "title"); print_add_json(b, h->title ? h->title : "");
  add_key(b, "heading"); print_add_json(b, h->heading ? h->heading : "");
  add_key(b, "score"); add_number(b, h->score);
  add_key(b, "tier"); buf_addf(b, "%d", h->tier);
  add_key(b, "snippet"); print_add_json(b, h->snippet ? h->snippet : "");
  add_key(b, "matches"); add_matches(b, h);
  add_key(b, "date"); print_add_json(b, h->date);
  add_key(b, "via"); add_via(b, h);
  if (h->explain) { add_key(b, "explain"); print_add_json(b, h->explain); }
  buf_adds(b, "}\n");
  print_emit(b);
}

static void json_begin(printer *p) { print_open(p->out); }

static void json_end(printer *p) { print_flush(); }

static void json_free(printer *p) {
  if (!p) return;
  buf_free(p->state);
  free(p->state);
  free(p);
}

printer *print_json_new(void) {
  printer *p = cns_xcalloc(1, sizeof *p);
  p->begin = json_begin;
  p->hit = json_hit;
  p->end = json_end;
  p->free = json_free;
  p->state = cns_xcalloc(1, sizeof(buf));
  return p;
}
