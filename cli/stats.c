/*
** stats.c -- `cnsearch stats` and `cnsearch tags`.
**
** Both bring the index up to date first (unless --no-update), like a
** search, so what they report is the notes as they are now.  stats
** prints one `name: value` line per figure (easy for people and for
** scripts); tags prints `COUNT TAG` lines, most used first, or JSON
** Lines with --json.
*/
#include <stdio.h>
#include <time.h>
#include "cli/cli.h"

static int open_fresh(const opts *o, cns **h) {
  int flags = o->no_update ? CNS_OPEN_READONLY : CNS_OPEN_CREATE;
  if (cli_open(o, flags, h)) return EXIT_ERROR;
  int rc = o->no_update ? 0 : cli_freshen(o, *h, NULL, NULL);
  if (rc) {
    rc = cli_fail_rc(*h, rc);
    cns_close(*h);
  }
  return rc;
}

int cli_stats(const opts *o) {
  cns *h;
  cns_stats st;
  if (open_fresh(o, &h)) return EXIT_ERROR;
  int rc = cns_get_stats(h, &st);
  if (rc) {
    rc = cli_fail_rc(h, rc);
  } else {
    char when[64] = "never";
    time_t t = (time_t)st.updated;
    if (t) strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime(&t));
    printf("notes: %lld\nsections: %lld\nlinks: %lld\nfetched pages: %lld\n"
           "tagged notes: %lld\nnotes size: %lld bytes\nindex size: %lld bytes "
           "(%.2fx the notes)\nlast update: %s\n",
           st.notes, st.sections, st.links, st.pages, st.tagged,
           st.note_bytes, st.index_bytes,
           st.note_bytes ? (double)st.index_bytes / (double)st.note_bytes : 0.0,
           when);
  }
  cns_close(h);
  return rc;
}

static void print_tag(void *arg, const char *tag, long n) {
  const opts *o = arg;
  if (o->json) {
    buf b = BUF_INIT;
    buf_adds(&b, "{\"tag\":");
    print_add_json(&b, tag);
    buf_addf(&b, ",\"notes\":%ld}\n", n);
    fputs(buf_str(&b), stdout);
    buf_free(&b);
  } else {
    printf("%6ld %s\n", n, tag);
  }
}

int cli_tags(const opts *o) {
  cns *h;
  if (open_fresh(o, &h)) return EXIT_ERROR;
  int rc = cns_each_tag(h, print_tag, (void *)o);
  if (rc) rc = cli_fail_rc(h, rc);
  cns_close(h);
  return rc;
}
