/*
** print_vimgrep.c -- "path:line:column:snippet", one line per hit.
**
** The shape Vim's 'grepformat' (%f:%l:%c:%m), Emacs's grep mode and most
** editors parse, and the one the golden CLI tests compare.  It is for
** programs, so it never has colour, and every hit is exactly one line:
** control bytes in the path are escaped by print_add_path() (raw plus NUL
** under --null, "path\0line:column:snippet"), and any control byte in
** the snippet becomes a space (snippets are built on one line already;
** this is the guarantee, not the common case).  The column is a 1-based
** byte column, which is what Vim's %c expects.  Editors that need more
** (titles, headings, ranges) should read the JSON format instead.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cnsint.h"


static void vimgrep_begin(printer *p) { print_open(p->out); }

static void vimgrep_hit(printer *p, const cns_hit *h) {
  buf *b = p->state;
  const char *snip = h->snippet ? h->snippet : "";
  print_add_path(b, p, h->path ? h->path : "");
  buf_addc(b, p->null_sep ? 0 : ':');
  buf_addf(b, "%ld:%ld:", h->line, h->column);
  print_add_text(b, snip, strlen(snip));
  buf_addc(b, '\n');
  print_emit(b);
}

static void vimgrep_end(printer *p) { print_flush(); }

static void vimgrep_free(printer *p) {
  if (!p) return;
  buf_free(p->state);
  free(p->state);
  free(p);
}

printer *print_vimgrep_new(void) {
  printer *p = cns_xcalloc(1, sizeof *p);
  p->begin = vimgrep_begin;
  p->hit = vimgrep_hit;
  p->end = vimgrep_end;
  p->free = vimgrep_free;
  p->state = cns_xcalloc(1, sizeof(buf));
  return p;
}
