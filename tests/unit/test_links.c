/*
** test_links.c -- unit tests for indexer/links.c: link.target from a
** link's text (paths resolved against the note's folder, never out of the
** root; URLs keyed without #fragment; wiki names), which local files
** fetch reads, and the graph over an in-memory index -- resolution by
** path, ending, title and stem, ties, backlinks and finding a note by
** name -- with link.target written by store_put_note() itself.
*/
#include <stdlib.h>
#include <string.h>
#include "cnsint.h"
#include "check.h"

static void target_is(const char *note, int kind, const char *url,
                      const char *want, int line) {
  char *t = links_target(note, kind, url);
  if ((t == NULL && want == NULL) || (t && want && strcmp(t, want) == 0)) {
    check_passed++;
  } else {
    check_failed++;
    fprintf(stderr, "%s:%d: FAIL: links_target(\"%s\", %d, \"%s\") == \"%s\", "
            "want \"%s\"\n", __FILE__, line, note, kind, url,
            t ? t : "(null)", want ? want : "(null)");
  }
  free(t);
}
#define TARGET(note, kind, url, want) target_is(note, kind, url, want, __LINE__)

static void test_local(void) {
  TARGET("index.md", MD_LINK_INLINE, "papers/fsdp.md", "papers/fsdp.md");
  TARGET("reading/log.md", MD_LINK_INLINE, "../papers/fsdp.md",
         "papers/fsdp.md");
  TARGET("reading/log.md", MD_LINK_INLINE, "../papers/fsdp.md#things-that-bit",
         "papers/fsdp.md");
  TARGET("reading/log.md", MD_LINK_INLINE, "./sub/../x.md?raw=1#y", "reading/x.md");
  TARGET("a/b/c.md", MD_LINK_INLINE, "../../d.md", "d.md");
  TARGET("a/b/c.md", MD_LINK_INLINE, "/top.md", "top.md");
  TARGET("a/b/c.md", MD_LINK_INLINE, "my%20note.md", "a/b/my note.md");
  TARGET("a/b/c.md", MD_LINK_INLINE, "caf%C3%A9", "a/b/caf\xC3\xA9");
  TARGET("a/b/c.md", MD_LINK_INLINE, "bad%zzescape", "a/b/bad%zzescape");
  TARGET("a/b/c.md", MD_LINK_INLINE, "trailing%2", "a/b/trailing%2");
  TARGET("a/b/c.md", MD_LINK_INLINE, "x//y///z.md", "a/b/x/y/z.md");
  TARGET("a/b/c.md", MD_LINK_INLINE, "folder/", "a/b/folder/");
  TARGET("a/b/c.md", MD_LINK_IMAGE, "figs/f.png", "a/b/figs/f.png");
  TARGET("a.md", MD_LINK_INLINE, " spaced.md ", "spaced.md");
  /* never above the root */
  TARGET("index.md", MD_LINK_INLINE, "../etc/passwd", NULL);
  TARGET("a/b/c.md", MD_LINK_INLINE, "../../../etc/passwd", NULL);
  TARGET("a/b/c.md", MD_LINK_INLINE, "../../../../../../etc/passwd", NULL);
  TARGET("a/b/c.md", MD_LINK_INLINE, "/../etc/passwd", NULL);
  TARGET("a/b/c.md", MD_LINK_INLINE, "%2e%2e/%2e%2e/%2E%2E/etc/passwd", NULL);
  TARGET("a/b/c.md", MD_LINK_INLINE, "..%2F..%2F..%2Fetc/passwd", NULL);
  TARGET("a/b/c.md", MD_LINK_INLINE, "x/../../../../y", NULL);
  TARGET("a/b/c.md", MD_LINK_INLINE, "../../d/../e.md", "e.md");
  TARGET("a.md", MD_LINK_INLINE, "nul%00byte", NULL);
  /* no place of its own */
  TARGET("a.md", MD_LINK_INLINE, "#section", NULL);
  TARGET("a.md", MD_LINK_INLINE, "", NULL);
  TARGET("a.md", MD_LINK_INLINE, ".", NULL);
  TARGET("a/b.md", MD_LINK_INLINE, "..", NULL);
  TARGET("a.md", MD_LINK_INLINE, "?q=1", NULL);
}

static void test_web(void) {
  TARGET("a.md", MD_LINK_INLINE, "https://arxiv.org/abs/2205.14135",
         "https://arxiv.org/abs/2205.14135");
  TARGET("x/a.md", MD_LINK_INLINE, "https://example.org/p#part-2",
         "https://example.org/p");
  TARGET("a.md", MD_LINK_INLINE, "HTTP://Example.ORG/Path/To?Q=A#F",
         "http://example.org/Path/To?Q=A");
  TARGET("a.md", MD_LINK_INLINE, "https://Ex.com:8080", "https://ex.com:8080");
  TARGET("a.md", MD_LINK_IMAGE, "https://ex.com/i.png", "https://ex.com/i.png");
  TARGET("a.md", MD_LINK_INLINE, "mailto:me@example.org", NULL);
  TARGET("a.md", MD_LINK_INLINE, "file:///etc/passwd", NULL);
  TARGET("a.md", MD_LINK_INLINE, "ftp://ex.com/f", NULL);
  TARGET("a.md", MD_LINK_INLINE, "javascript:alert(1)", NULL);
  TARGET("a.md", MD_LINK_INLINE, "//ex.com/protocol-relative", NULL);
  CHECK(links_is_web("https://x"));
  CHECK(links_is_web("HTTP://x"));
  CHECK(!links_is_web("papers/http.md"));
  CHECK(!links_is_web(NULL));
}

static void test_wiki(void) {
  TARGET("a/b.md", MD_LINK_WIKI, "ML Compilers: A Map", "ML Compilers: A Map");
  TARGET("a/b.md", MD_LINK_WIKI, "  Spaced Title  ", "Spaced Title");
  TARGET("a/b.md", MD_LINK_WIKI, "Note#Heading", "Note");
  TARGET("a/b.md", MD_LINK_WIKI, "Note|shown text", "Note");
  TARGET("a/b.md", MD_LINK_WIKI, "../escape", "../escape"); /* a name, not a path */
  TARGET("a/b.md", MD_LINK_WIKI, "#only-anchor", NULL);
  TARGET("a/b.md", MD_LINK_WIKI, "", NULL);
}

static void test_file_kind(void) {
  CHECK_INT(links_file_kind("refs/spec.html"), LINKS_FILE_HTML);
  CHECK_INT(links_file_kind("refs/spec.HTM"), LINKS_FILE_HTML);
  CHECK_INT(links_file_kind("x.xhtml"), LINKS_FILE_HTML);
  CHECK_INT(links_file_kind("docs/guide.rst"), LINKS_FILE_TEXT);
  CHECK_INT(links_file_kind("todo.org"), LINKS_FILE_TEXT);
  CHECK_INT(links_file_kind("a.adoc"), LINKS_FILE_TEXT);
  CHECK_INT(links_file_kind("note.md"), 0);
  CHECK_INT(links_file_kind("figs/f.png"), 0);
  CHECK_INT(links_file_kind("dir.html/file"), 0);
  CHECK_INT(links_file_kind(".html"), 0);
  CHECK_INT(links_file_kind("noext"), 0);
}

/* ---- the graph over an in-memory index ------------------------------- */

static sqlite3 *db;
static store *st;

static long long put(const char *path, const char *text) {
  md_note md;
  char *fallback = cns_xstrndup(path, strcspn(path, "."));
  const char *slash = strrchr(fallback, '/');
  CHECK_INT(md_note_parse(text, strlen(text), slash ? slash + 1 : fallback,
                          &md),
            CNS_OK);
  buf err = BUF_INIT;
  CHECK_INT(store_put_note(st, path, 1, 1, text, strlen(text), &md, &err),
            CNS_OK);
  md_note_free(&md);
  free(fallback);
  buf_free(&err);
  return sqlite3_last_insert_rowid(db);
}

static long long id_of(const char *path) {
  sqlite3_stmt *s;
  long long id = 0;
  sqlite3_prepare_v2(db, "SELECT id FROM note WHERE path = ?", -1, &s, NULL);
  sqlite3_bind_text(s, 1, path, -1, SQLITE_STATIC);
  if (sqlite3_step(s) == SQLITE_ROW) id = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return id;
}

static long long resolve(int kind, const char *target) {
  long long id = -1;
  buf err = BUF_INIT;
  CHECK_INT(links_resolve(db, kind, target, &id, &err), CNS_OK);
  buf_free(&err);
  return id;
}

static const char *stored_target(const char *url) {
  static char out[256];
  sqlite3_stmt *s;
  strcpy(out, "(no row)");
  sqlite3_prepare_v2(db, "SELECT ifnull(target, '(null)') FROM link WHERE "
                         "coalesce(url, target) = ?",
                     -1, &s, NULL);
  sqlite3_bind_text(s, 1, url, -1, SQLITE_STATIC);
  if (sqlite3_step(s) == SQLITE_ROW)
    snprintf(out, sizeof out, "%s", (const char *)sqlite3_column_text(s, 0));
  sqlite3_finalize(s);
  return out;
}

/* ids as "path,path" for comparing */
static char *paths(const links_ids *ids) {
  buf b = BUF_INIT;
  buf_adds(&b, "");
  for (size_t i = 0; i < ids->n; i++) {
    sqlite3_stmt *s;
    sqlite3_prepare_v2(db, "SELECT path FROM note WHERE id = ?", -1, &s, NULL);
    sqlite3_bind_int64(s, 1, ids->v[i]);
    if (sqlite3_step(s) == SQLITE_ROW) {
      if (b.len) buf_addc(&b, ',');
      buf_adds(&b, (const char *)sqlite3_column_text(s, 0));
    }
    sqlite3_finalize(s);
  }
  return buf_detach(&b);
}

static void graph_setup(void) {
  buf err = BUF_INIT;
  db = check_open_index_db(":memory:");
  CHECK_INT(store_schema(db, &err), CNS_OK);
  CHECK_INT(store_open(db, &st, &err), CNS_OK);
  CHECK_INT(store_begin(st, &err), CNS_OK);
  put("index.md", "# Index\n\n[FSDP](papers/fsdp.md) [ZeRO](papers/zero) "
                  "[[Ring Attention]] [[missing page]] [web](https://ex.org/a#b) "
                  "[out](../etc/passwd) [self](#top) [both](papers/both)\n");
  put("papers/fsdp.md", "# FSDP: Fully Sharded Data Parallel\n\nSee "
                        "[zero](zero.md#stages) and [[index]].\n");
  put("papers/zero.md", "# ZeRO\n\n[back](fsdp.md) [again](./fsdp.md#x)\n");
  put("papers/ring.md", "---\ntitle: Ring Attention\n---\n\n[fsdp](/papers/fsdp.md)\n");
  put("papers/both.markdown", "# Both markdown\n");
  put("papers/both.md", "# Both md\n");
  put("twins/a.md", "# Twin\n");
  put("twins/b.md", "# Twin\n");
  put("stem/unique_name.md", "# Title Unlike The Name\n\n[[unique_name]] [[UNIQUE-NAME]]\n");
  CHECK_INT(store_commit(st, &err), CNS_OK);
  buf_free(&err);
}

static void test_stored_targets(void) {
  CHECK_STR(stored_target("papers/fsdp.md"), "papers/fsdp.md");
  CHECK_STR(stored_target("zero.md#stages"), "papers/zero.md");
  CHECK_STR(stored_target("./fsdp.md#x"), "papers/fsdp.md");
  CHECK_STR(stored_target("/papers/fsdp.md"), "papers/fsdp.md");
  CHECK_STR(stored_target("https://ex.org/a#b"), "https://ex.org/a");
  CHECK_STR(stored_target("../etc/passwd"), "(null)");
  CHECK_STR(stored_target("#top"), "(null)");
  CHECK_STR(stored_target("Ring Attention"), "Ring Attention");
}

static void test_resolve(void) {
  long long fsdp = id_of("papers/fsdp.md"), zero = id_of("papers/zero.md");
  CHECK_INT(resolve(MD_LINK_INLINE, "papers/fsdp.md"), fsdp);
  CHECK_INT(resolve(MD_LINK_INLINE, "papers/zero"), zero);   /* ending added */
  CHECK_INT(resolve(MD_LINK_INLINE, "papers/both"), id_of("papers/both.md")); /* .md wins */
  CHECK_INT(resolve(MD_LINK_INLINE, "papers/both.markdown"),
            id_of("papers/both.markdown"));
  CHECK_INT(resolve(MD_LINK_INLINE, "papers/fs"), 0);        /* no prefix match */
  CHECK_INT(resolve(MD_LINK_INLINE, "papers"), 0);
  CHECK_INT(resolve(MD_LINK_INLINE, "https://ex.org/a"), 0);
  CHECK_INT(resolve(MD_LINK_INLINE, NULL), 0);
  CHECK_INT(resolve(MD_LINK_INLINE, "PAPERS/FSDP.MD"), 0);   /* paths keep case */
  CHECK_INT(resolve(MD_LINK_WIKI, "ring attention"), id_of("papers/ring.md"));
  CHECK_INT(resolve(MD_LINK_WIKI, "FSDP: fully sharded data parallel"), fsdp);
  CHECK_INT(resolve(MD_LINK_WIKI, "index"), id_of("index.md")); /* title "Index" */
  CHECK_INT(resolve(MD_LINK_WIKI, "zero"), zero);
  CHECK_INT(resolve(MD_LINK_WIKI, "papers/zero"), zero);      /* path less ending */
  CHECK_INT(resolve(MD_LINK_WIKI, "papers/zero.md"), zero);
  CHECK_INT(resolve(MD_LINK_WIKI, "unique_name"), id_of("stem/unique_name.md"));
  CHECK_INT(resolve(MD_LINK_WIKI, "UNIQUE-NAME"), 0);         /* '_' is not '-' */
  CHECK_INT(resolve(MD_LINK_WIKI, "Twin"), id_of("twins/a.md")); /* tie: first path */
  CHECK_INT(resolve(MD_LINK_WIKI, "missing page"), 0);
  CHECK_INT(resolve(MD_LINK_WIKI, "%"), 0);
}

static void test_graph(void) {
  long long fsdp = id_of("papers/fsdp.md");
  links_ids ids = {0};
  buf err = BUF_INIT;
  CHECK_INT(links_sources(db, fsdp, &ids, &err), CNS_OK);
  char *p = paths(&ids);
  CHECK_STR(p, "index.md,papers/zero.md,papers/ring.md");
  free(p);
  links_ids_free(&ids);
  CHECK_INT(links_dests(db, id_of("index.md"), &ids, &err), CNS_OK);
  p = paths(&ids);
  CHECK_STR(p, "papers/fsdp.md,papers/zero.md,papers/ring.md,papers/both.md");
  free(p);
  links_ids_free(&ids);
  CHECK_INT(links_sources(db, id_of("index.md"), &ids, &err), CNS_OK);
  p = paths(&ids);
  CHECK_STR(p, "papers/fsdp.md"); /* [[index]]; its own #top is left out */
  free(p);
  links_ids_free(&ids);
  CHECK_INT(links_sources(db, id_of("papers/both.markdown"), &ids, &err),
            CNS_OK);
  CHECK_INT(ids.n, 0); /* "papers/both" went to both.md */
  links_ids_free(&ids);
  CHECK_INT(links_sources(db, id_of("stem/unique_name.md"), &ids, &err),
            CNS_OK);
  CHECK_INT(ids.n, 0); /* links to itself only */
  links_ids_free(&ids);
  CHECK_INT(links_sources(db, 999999, &ids, &err), CNS_OK);
  CHECK_INT(ids.n, 0);
  links_ids_free(&ids);
  buf_free(&err);
}

static void find_is(const char *name, const char *want_path, int want_rc,
                    const char *want_err, int line) {
  long long id;
  char *path = NULL;
  buf err = BUF_INIT;
  int rc = links_find_note(db, "/no/such/root", NULL, name, &id, &path, &err);
  int ok = rc == want_rc &&
           (want_path ? path && strcmp(path, want_path) == 0 : path == NULL) &&
           (!want_err || strcmp(buf_str(&err), want_err) == 0);
  if (ok) check_passed++;
  else {
    check_failed++;
    fprintf(stderr, "%s:%d: FAIL: links_find_note(\"%s\") == %d \"%s\" "
            "(%s), want %d \"%s\"\n", __FILE__, line, name, rc,
            path ? path : "(null)", buf_str(&err), want_rc,
            want_path ? want_path : "(null)");
  }
  free(path);
  buf_free(&err);
}
#define FIND(name, path, rc, msg) find_is(name, path, rc, msg, __LINE__)

static void test_find(void) {
  FIND("papers/fsdp.md", "papers/fsdp.md", CNS_OK, NULL);
  FIND("./papers/fsdp.md", "papers/fsdp.md", CNS_OK, NULL);
  FIND("/no/such/root/papers/fsdp.md", "papers/fsdp.md", CNS_OK, NULL);
  FIND("papers/fsdp", "papers/fsdp.md", CNS_OK, NULL);
  FIND("fsdp: fully SHARDED data parallel", "papers/fsdp.md", CNS_OK, NULL);
  FIND("fsdp", "papers/fsdp.md", CNS_OK, NULL);
  FIND("Ring Attention", "papers/ring.md", CNS_OK, NULL);
  FIND("Twin", NULL, CNS_EUSAGE,
       "'Twin' names 2 notes: twins/a.md, twins/b.md; give its path");
  FIND("both", NULL, CNS_EUSAGE,
       "'both' names 2 notes: papers/both.markdown, papers/both.md; give its "
       "path");
  FIND("nothing", NULL, CNS_EUSAGE,
       "no note 'nothing' (by path, title or file name)");
}

int main(void) {
  test_local();
  test_web();
  test_wiki();
  test_file_kind();
  graph_setup();
  test_stored_targets();
  test_resolve();
  test_graph();
  test_find();
  store_close(st);
  sqlite3_close(db);
  return check_done("test_links");
}
