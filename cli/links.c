/*
** links.c -- `cnsearch links NOTE`: where a note's links lead, and which
** notes link to it.
**
** NOTE is a path (relative to the current folder or the notes root, the
** ending optional), a title or a file name stem.  Human output is two
** blocks of path:line:column:anchor text lines, which editors read as a
** jump list: "outgoing:" with " → target" after each link (a note path,
** a URL with its page title once fetched, or "(dangling)"), then
** "backlinks:".  --json prints one object per link (docs/linked-pages.md).
** Exit 0 when the note has links either way, 1 when it has none.
*/
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/cli.h"

static const char *kind_name(int kind) {
  return kind == CNS_LINK_WIKI ? "wiki" : kind == CNS_LINK_IMAGE ? "image"
                                                                 : "inline";
}

static void human(buf *b, const printer *p, const cns_link *k) {
  print_add_path(b, p, k->path);
  buf_addf(b, ":%ld:%ld:", k->line, k->column);
  print_add_text(b, k->text, strlen(k->text));
  if (k->outgoing) {
    buf_adds(b, " \xE2\x86\x92 "); /* " → " */
    if (k->target_kind == CNS_TARGET_NOTE) {
      print_add_path(b, p, k->target);
    } else if (k->target_kind == CNS_TARGET_PAGE) {
      if (links_is_web(k->target)) print_add_text(b, k->target, strlen(k->target));
      else print_add_path(b, p, k->target);
      if (k->target_title) {
        buf_adds(b, " (");
        print_add_text(b, k->target_title, strlen(k->target_title));
        buf_addc(b, ')');
      }
    } else {
      print_add_text(b, k->url, strlen(k->url));
      buf_adds(b, " (dangling)");
    }
  }
  buf_addc(b, '\n');
}

static void json(buf *b, const printer *p, const cns_link *k) {
  char *path = print_path(p, k->path);
  buf_adds(b, "{\"type\":\"link\",\"direction\":");
  buf_adds(b, k->outgoing ? "\"out\"" : "\"in\"");
  buf_adds(b, ",\"path\":");
  print_add_json(b, path);
  buf_addf(b, ",\"line\":%ld,\"column\":%ld,\"kind\":\"%s\",\"text\":",
           k->line, k->column, kind_name(k->kind));
  print_add_json(b, k->text);
  buf_adds(b, ",\"url\":");
  print_add_json(b, k->url);
  buf_adds(b, ",\"target\":");
  char *target = k->target_kind == CNS_TARGET_NOTE ||
                         (k->target && !links_is_web(k->target))
                     ? print_path(p, k->target)
                     : k->target ? cns_xstrdup(k->target) : NULL;
  print_add_json(b, target);
  buf_adds(b, ",\"target_kind\":");
  buf_adds(b, k->target_kind == CNS_TARGET_NOTE   ? "\"note\""
              : k->target_kind == CNS_TARGET_PAGE ? "\"page\""
                                                  : "null");
  buf_adds(b, ",\"target_title\":");
  print_add_json(b, k->target_title);
  buf_adds(b, "}\n");
  free(target);
  free(path);
}

int cli_links(const opts *o) {
  if (o->argc < 2) cli_die_usage("'links' needs a note (a path or a title)");
  if (o->files || o->count || o->vimgrep)
    cli_die_usage("'links' prints lines or --json; -l, -c and --vimgrep "
                  "do not apply");
  cns *h;
  int flags = o->no_update ? CNS_OPEN_READONLY : CNS_OPEN_CREATE;
  if (cli_open(o, flags, &h)) return EXIT_ERROR;
  int rc = 0;
  if (!o->no_update && (rc = cli_freshen(o, h, NULL, NULL)) != 0) {
    rc = cli_fail_rc(h, rc);
    cns_close(h);
    return rc;
  }
  cns_links *l;
  if ((rc = cns_links_new(h, o->argv[1], &l)) != CNS_OK) {
    rc = cli_fail_rc(h, rc);
    cns_close(h);
    return rc;
  }
  static char cwd[PATH_MAX];
  printer p = {0};
  p.root = h->root;
  p.cwd = getcwd(cwd, sizeof cwd) ? cwd : "/";
  p.absolute = o->absolute;
  print_open(stdout);
  buf b = BUF_INIT;
  const cns_link *k;
  int n = 0, section = -1;
  while (cns_links_next(l, &k) == CNS_OK) {
    if (o->json) {
      json(&b, &p, k);
    } else {
      if (section != k->outgoing)
        buf_adds(&b, k->outgoing ? "outgoing:\n" : "backlinks:\n");
      section = k->outgoing;
      human(&b, &p, k);
    }
    print_emit(&b);
    n++;
  }
  buf_free(&b);
  print_flush();
  cns_links_free(l);
  cns_close(h);
  return n ? EXIT_FOUND : EXIT_NONE;
}
