/*
** links.c -- where links lead: link.target at index time, the link graph
** at query time.
**
** Two halves with one rule between them: what a link points at is worked
** out from its text alone, once, when its note is indexed
** (links_target(), pure); which note that is -- if any -- is asked of the
** index every time (links_resolve()).  A link to "../papers/fsdp" written
** before papers/fsdp.md exists, or a [[Wiki Link]] to a note whose title
** changes later, is then right without re-indexing the note that holds
** the link, and nothing in the index can go stale.
**
** link.target is also the key fetched pages are stored under (page.url),
** so `page.url = link.target` joins a page to every link to it, through
** the index link_by_target on link.thash, a 32-bit hash of the target
** (links_target_hash(), and cns_thash() in SQL; every lookup compares the
** target too): http(s) URLs lose their #fragment (two links
** to parts of one page share it) and get a lower-case scheme and host;
** local non-note files keep their root-relative path.
**
** Local paths never leave the root: ".." segments are resolved against
** the linking note's folder, and one that would climb above the root
** makes the target NULL ("../../etc/passwd" leads nowhere).  fetch.c
** still checks the real path before reading, because of symbolic links.
**
** Resolution rules (links_resolve):
**   path    the note of exactly that path; else that path plus an ending
**           (the note "papers/fsdp.md" for "papers/fsdp"), ".md" first.
**   wiki    the note of that title (ASCII case ignored); else the note
**           whose path, or file name, less its ending is that name.
**   Ties go to the first path in byte order, so answers are stable.
** Backlinks (links_sources, cns_links) take the candidate links through
** the index and then check each with links_resolve, so the two
** directions always agree.
*/
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include "cnsint.h"

/* ---- link.target (pure) ---------------------------------------------- */

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Length of a URL scheme at s ("http" for "http://..."), or 0. */
static size_t scheme_len(const char *s) {
  size_t i = 0;
  if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
    return 0;
  while (s[i] && (strchr("+-.", s[i]) || (s[i] >= '0' && s[i] <= '9') ||
                  (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
    i++;
  return s[i] == ':' ? i : 0;
}

int links_is_web(const char *t) {
  return t && (strncasecmp(t, "http://", 7) == 0 ||
               strncasecmp(t, "https://", 8) == 0);
}

/* http(s): lower-case scheme and host, no fragment, no surrounding blanks. */
static char *web_target(const char *url) {
  size_t n = strcspn(url, "#");
  while (n && (url[n - 1] == ' ' || url[n - 1] == '\t')) n--;
  char *t = cns_xstrndup(url, n);
  char *p = strstr(t, "://") + 3;
  for (char *q = t; q < p; q++)
    if (*q >= 'A' && *q <= 'Z') *q += 'a' - 'A';
  for (; *p && !strchr("/?", *p); p++)
    if (*p >= 'A' && *p <= 'Z') *p += 'a' - 'A';
  return t;
}

/* Append path (percent-decoded) to the segment stack in out, resolving
** "." and "..".  Returns 0 when a ".." climbs above the root or a
** segment decodes to a NUL. */
static int push_path(buf *out, const char *p, size_t n) {
  size_t i = 0;
  while (i < n) {
    size_t j = i;
    while (j < n && p[j] != '/') j++;
    buf seg = BUF_INIT;
    for (size_t k = i; k < j; k++) {
      int hi, lo;
      if (p[k] == '%' && k + 2 < j &&
          (hi = hexval((unsigned char)p[k + 1])) >= 0 &&
          (lo = hexval((unsigned char)p[k + 2])) >= 0) {
        if (hi == 0 && lo == 0) {
          buf_free(&seg);
          return 0;
        }
        buf_addc(&seg, hi * 16 + lo);
        k += 2;
      } else {
        buf_addc(&seg, p[k]);
      }
    }
    const char *s = buf_str(&seg);
    if (strchr(s, '/')) {
      /* %2F: a separator after all; resolve the decoded text again */
      int ok = push_path(out, s, seg.len);
      buf_free(&seg);
      if (!ok) return 0;
    } else if (strcmp(s, "..") == 0) {
      if (!out->len) {
        buf_free(&seg);
        return 0;
      }
      char *slash = strrchr(out->p, '/');
      out->len = slash ? (size_t)(slash - out->p) : 0;
      out->p[out->len] = 0;
      buf_free(&seg);
    } else {
      if (seg.len && strcmp(s, ".") != 0) {
        if (out->len) buf_addc(out, '/');
        buf_add(out, seg.p, seg.len);
      }
      buf_free(&seg);
    }
    i = j + 1;
  }
  return 1;
}

static char *local_target(const char *note_path, const char *url) {
  size_t n = strcspn(url, "#?");
  while (n && (url[n - 1] == ' ' || url[n - 1] == '\t')) n--;
  if (n == 0) return NULL; /* "#anchor" alone: this note */
  buf out = BUF_INIT;
  buf_adds(&out, "");
  int ok = 1;
  if (url[0] != '/') { /* relative to the linking note's folder */
    const char *slash = strrchr(note_path, '/');
    if (slash) ok = push_path(&out, note_path, (size_t)(slash - note_path));
  }
  if (ok) ok = push_path(&out, url, n);
  if (ok && out.len && url[n - 1] == '/') buf_addc(&out, '/');
  if (!ok || !out.len) {
    buf_free(&out);
    return NULL;
  }
  return buf_detach(&out);
}

static char *wiki_target(const char *url) {
  size_t n = strcspn(url, "#|");
  while (*url == ' ' || *url == '\t') url++, n = n ? n - 1 : 0;
  while (n && (url[n - 1] == ' ' || url[n - 1] == '\t')) n--;
  return n ? cns_xstrndup(url, n) : NULL;
}

char *links_target(const char *note_path, int kind, const char *url) {
  if (!url) return NULL;
  while (*url == ' ' || *url == '\t') url++;
  if (kind == MD_LINK_WIKI) return wiki_target(url);
  if (links_is_web(url)) return web_target(url);
  if (scheme_len(url) || strncmp(url, "//", 2) == 0) return NULL;
  return local_target(note_path, url);
}

int links_file_kind(const char *path) {
  static const char *html[] = {".html", ".htm", ".xhtml"};
  static const char *text[] = {".rst", ".org", ".adoc", ".text", ".textile"};
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  const char *dot = strrchr(base, '.');
  if (!dot || dot == base) return 0;
  for (size_t i = 0; i < sizeof html / sizeof *html; i++)
    if (strcasecmp(dot, html[i]) == 0) return LINKS_FILE_HTML;
  for (size_t i = 0; i < sizeof text / sizeof *text; i++)
    if (strcasecmp(dot, text[i]) == 0) return LINKS_FILE_TEXT;
  return 0;
}

/* ---- link.thash: the key of link_by_target ------------------------------ */

/* cns_hash() folded to 32 bits: SQLite keeps a value that fits in 32
** signed bits in 4 bytes, where the target itself averages 50. */
int32_t links_target_hash(const char *t, size_t n) {
  uint64_t h = cns_hash(t, n);
  return (int32_t)(uint32_t)(h ^ (h >> 32));
}

static void thash_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  const char *t = (const char *)sqlite3_value_text(argv[0]);
  if (!t) {
    if (sqlite3_value_type(argv[0]) != SQLITE_NULL) sqlite3_result_error_nomem(ctx);
    return; /* NULL for NULL */
  }
  size_t n = (size_t)sqlite3_value_bytes(argv[0]);
  sqlite3_result_int(ctx, links_target_hash(t, n));
}

int links_register(sqlite3 *db) {
  return sqlite3_create_function(
      db, "cns_thash", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC |
      SQLITE_INNOCUOUS, NULL, thash_fn, NULL, NULL);
}

/* ---- resolving against the index --------------------------------------- */

void links_ids_free(links_ids *ids) {
  free(ids->v);
  ids->v = NULL;
  ids->n = ids->cap = 0;
}

static void ids_add(links_ids *ids, long long id) {
  if (ids->n == ids->cap) {
    ids->cap = ids->cap ? ids->cap * 2 : 16;
    ids->v = cns_xrealloc(ids->v, ids->cap * sizeof *ids->v);
  }
  ids->v[ids->n++] = id;
}

static void ids_sort_unique(links_ids *ids) {
  if (!ids->n) return;
  qsort(ids->v, ids->n, sizeof *ids->v, cns_cmp_id);
  size_t w = 1;
  for (size_t i = 1; i < ids->n; i++)
    if (ids->v[i] != ids->v[w - 1]) ids->v[w++] = ids->v[i];
  ids->n = w;
}


static int dberr(sqlite3 *db, buf *err) {
  buf_addf(err, "cannot read the link graph: %s", sqlite3_errmsg(db));
  return db_rc_to_cns(sqlite3_errcode(db));
}

/* The length of path less its ending (".md"), or its length if none. */
static size_t stem_len(const char *path) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  const char *dot = strrchr(base, '.');
  return dot && dot != base ? (size_t)(dot - path) : strlen(path);
}

/* Does path, less its ending, equal name (caseless when asked)? */
static int stem_is(const char *path, const char *name, size_t n, int caseless) {
  size_t sl = stem_len(path);
  if (sl != n || sl == strlen(path)) return 0;
  return caseless ? strncasecmp(path, name, n) == 0
                  : strncmp(path, name, n) == 0;
}

/* Run sql with the text parameter a; the first row's id is put in *id
** (0 when no row). */
static int first_id(sqlite3 *db, const char *sql, const char *a,
                    long long *id, buf *err) {
  sqlite3_stmt *st;
  *id = 0;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
    return dberr(db, err);
  sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) *id = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return dberr(db, err);
  return CNS_OK;
}

/* The first note (by path) whose path less its ending equals name, among
** the rows of sql (id, path; parameter 1 is name).  ".md" wins a tie. */
static int stem_match(sqlite3 *db, const char *sql, const char *name,
                      int caseless, int base_only, long long *id, buf *err) {
  sqlite3_stmt *st;
  *id = 0;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
    return dberr(db, err);
  sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
  size_t n = strlen(name);
  int rc, md = 0;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const char *path = (const char *)sqlite3_column_text(st, 1);
    if (!path) continue;
    const char *cmp = path;
    if (base_only) {
      const char *slash = strrchr(path, '/');
      cmp = slash ? slash + 1 : path;
    }
    if (!stem_is(cmp, name, n, caseless)) continue;
    int is_md = strcasecmp(path + stem_len(path), ".md") == 0;
    if (!*id || (is_md && !md)) {
      *id = sqlite3_column_int64(st, 0);
      md = is_md;
    }
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return dberr(db, err);
  return CNS_OK;
}

static int resolve_path(sqlite3 *db, const char *target, long long *id,
                        buf *err) {
  int rc = first_id(db, "SELECT id FROM note WHERE path = ?1", target, id,
                    err);
  if (rc || *id) return rc;
  /* target + "." + ending: the range [target".", target"/") holds them */
  return stem_match(db,
                    "SELECT id, path FROM note WHERE path >= ?1 || '.' AND "
                    "path < ?1 || '/' ORDER BY path",
                    target, 0, 0, id, err);
}

static int resolve_wiki(sqlite3 *db, const char *name, long long *id,
                        buf *err) {
  int rc = first_id(db,
                    "SELECT id FROM note WHERE title = ?1 COLLATE NOCASE "
                    "ORDER BY path LIMIT 1",
                    name, id, err);
  if (rc || *id) return rc;
  rc = first_id(db,
                "SELECT id FROM note WHERE path = ?1 COLLATE NOCASE "
                "ORDER BY path LIMIT 1",
                name, id, err);
  if (rc || *id) return rc;
  /* LIKE only narrows the rows ('_' and '%' may over-match); stem_match
  ** decides.  A name with a '/' is a path less its ending. */
  return stem_match(db,
                    "SELECT id, path FROM note WHERE path LIKE '%' || ?1 || "
                    "'.%' ORDER BY path",
                    name, 1, strchr(name, '/') == NULL, id, err);
}

int links_resolve(sqlite3 *db, int kind, const char *target, long long *id,
                  buf *err) {
  *id = 0;
  if (!target || !*target || (kind != MD_LINK_WIKI && links_is_web(target)))
    return CNS_OK;
  return kind == MD_LINK_WIKI ? resolve_wiki(db, target, id, err)
                              : resolve_path(db, target, id, err);
}

/* ---- finding a note by name ------------------------------------------ */

/* Notes matching sql (id, path; parameter 1 is name): into ids, and the
** first three paths into paths.  With stem, only rows whose file name
** less its ending is name (ASCII case ignored). */
static int all_ids(sqlite3 *db, const char *sql, const char *name, int stem,
                   links_ids *ids, buf *paths, buf *err) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
    return dberr(db, err);
  sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
  size_t n = strlen(name);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const char *p = (const char *)sqlite3_column_text(st, 1);
    const char *base = strrchr(p, '/');
    if (stem && !stem_is(base ? base + 1 : p, name, n, 1)) continue;
    ids_add(ids, sqlite3_column_int64(st, 0));
    if (ids->n <= 3) {
      if (paths->len) buf_adds(paths, ", ");
      buf_adds(paths, p);
    }
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return dberr(db, err);
  return CNS_OK;
}

static int path_of(sqlite3 *db, long long id, char **path, buf *err) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db, "SELECT path FROM note WHERE id = ?", -1, &st,
                         NULL) != SQLITE_OK)
    return dberr(db, err);
  sqlite3_bind_int64(st, 1, id);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    *path = cns_xstrdup((const char *)sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  return rc == SQLITE_ROW ? CNS_OK : dberr(db, err);
}

/* name as a path relative to root: absolute or relative to the folder
** cwd (NULL: the current one) when it exists there and lies inside root;
** else as written, less a leading "./".  Caller frees. */
static char *as_rel_path(const char *root, const char *cwd,
                         const char *name) {
  char real[PATH_MAX];
  size_t rl = strlen(root);
  char *full = cwd && name[0] != '/' ? cns_xasprintf("%s/%s", cwd, name)
                                     : cns_xstrdup(name);
  int inside = realpath(full, real) && strncmp(real, root, rl) == 0 &&
               real[rl] == '/';
  free(full);
  if (inside) return cns_xstrdup(real + rl + 1);
  while (name[0] == '.' && name[1] == '/') name += 2;
  if (name[0] == '/' && strncmp(name, root, rl) == 0 && name[rl] == '/')
    return cns_xstrdup(name + rl + 1);
  return cns_xstrdup(name);
}

int links_find_note(sqlite3 *db, const char *root, const char *cwd,
                    const char *name, long long *id, char **path, buf *err) {
  *id = 0;
  *path = NULL;
  char *rel = as_rel_path(root, cwd, name);
  int rc = resolve_path(db, rel, id, err);
  free(rel);
  links_ids ids = {0};
  buf paths = BUF_INIT;
  if (!rc && !*id)
    rc = all_ids(db,
                 "SELECT id, path FROM note WHERE title = ?1 COLLATE NOCASE "
                 "ORDER BY path",
                 name, 0, &ids, &paths, err);
  if (!rc && !*id && !ids.n)
    rc = all_ids(db,
                 "SELECT id, path FROM note WHERE path LIKE '%' || ?1 || "
                 "'.%' ORDER BY path",
                 name, 1, &ids, &paths, err);
  if (!rc && !*id && ids.n == 1) *id = ids.v[0];
  if (!rc && !*id && ids.n > 1) {
    buf_addf(err, "'%s' names %zu notes: %s%s; give its path", name, ids.n,
             buf_str(&paths), ids.n > 3 ? ", ..." : "");
    rc = CNS_EUSAGE;
  }
  links_ids_free(&ids);
  buf_free(&paths);
  if (!rc && !*id) {
    buf_addf(err, "no note '%s' (by path, title or file name)", name);
    rc = CNS_EUSAGE;
  }
  if (!rc) rc = path_of(db, *id, path, err);
  return rc;
}

/* ---- the graph --------------------------------------------------------- */

/* The links that may lead to a note (?1 path, ?2 path less its ending,
** ?3 title, ?4 file name stem), through link_by_target for paths; each
** is then checked with links_resolve(). */
static const char *backlink_sql =
    "SELECT k.id, k.note, k.kind, k.target FROM link k "
    "WHERE k.kind != 2 AND k.thash IN (cns_thash(?1), cns_thash(?2)) "
    "AND k.target IN (?1, ?2) "
    "UNION ALL "
    "SELECT k.id, k.note, k.kind, k.target FROM link k "
    "WHERE k.kind = 2 AND (k.target = ?3 COLLATE NOCASE OR "
    "k.target = ?1 COLLATE NOCASE OR k.target = ?2 COLLATE NOCASE OR "
    "k.target = ?4 COLLATE NOCASE)";

/* Link ids (into *links, may be NULL) and their notes (into *notes) of
** every link that leads to note. */
static int backlinks(sqlite3 *db, long long note, links_ids *links,
                     links_ids *notes, buf *err) {
  sqlite3_stmt *st;
  char *path = NULL, *title = NULL;
  if (sqlite3_prepare_v2(db, "SELECT path, title FROM note WHERE id = ?", -1,
                         &st, NULL) != SQLITE_OK)
    return dberr(db, err);
  sqlite3_bind_int64(st, 1, note);
  if (sqlite3_step(st) == SQLITE_ROW) {
    path = cns_xstrdup((const char *)sqlite3_column_text(st, 0));
    title = cns_xstrdup((const char *)sqlite3_column_text(st, 1));
  }
  sqlite3_finalize(st);
  if (!path) return CNS_OK;
  char *noext = cns_xstrndup(path, stem_len(path));
  const char *slash = strrchr(noext, '/');
  const char *stem = slash ? slash + 1 : noext;
  int rc = CNS_OK;
  if (sqlite3_prepare_v2(db, backlink_sql, -1, &st, NULL) != SQLITE_OK)
    rc = dberr(db, err);
  else {
    sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, noext, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, title, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, stem, -1, SQLITE_STATIC);
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
      long long to;
      const char *t = (const char *)sqlite3_column_text(st, 3);
      if ((rc = links_resolve(db, sqlite3_column_int(st, 2), t, &to, err)))
        break;
      if (to != note) continue;
      if (links) ids_add(links, sqlite3_column_int64(st, 0));
      if (notes) ids_add(notes, sqlite3_column_int64(st, 1));
    }
    if (!rc && src != SQLITE_DONE) rc = dberr(db, err);
    sqlite3_finalize(st);
  }
  free(noext);
  free(path);
  free(title);
  return rc;
}

int links_sources(sqlite3 *db, long long note, links_ids *out, buf *err) {
  int rc = backlinks(db, note, NULL, out, err);
  ids_sort_unique(out);
  size_t w = 0;
  for (size_t i = 0; i < out->n; i++)
    if (out->v[i] != note) out->v[w++] = out->v[i];
  out->n = w;
  return rc;
}

int links_dests(sqlite3 *db, long long note, links_ids *out, buf *err) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db, "SELECT kind, target FROM link WHERE note = ?",
                         -1, &st, NULL) != SQLITE_OK)
    return dberr(db, err);
  sqlite3_bind_int64(st, 1, note);
  int rc = CNS_OK, src;
  while ((src = sqlite3_step(st)) == SQLITE_ROW) {
    long long to;
    if ((rc = links_resolve(db, sqlite3_column_int(st, 0),
                            (const char *)sqlite3_column_text(st, 1), &to,
                            err)))
      break;
    if (to && to != note) ids_add(out, to);
  }
  if (!rc && src != SQLITE_DONE) rc = dberr(db, err);
  sqlite3_finalize(st);
  ids_sort_unique(out);
  return rc;
}

/* ---- cns_links: the public listing ------------------------------------ */

typedef struct entry {
  cns_link l;
  char *path, *text, *url, *target, *title; /* owned copies behind l */
} entry;

struct cns_links {
  char *path;          /* the note asked about */
  entry *v;
  size_t n, cap, next;
};

static entry *new_entry(cns_links *L) {
  if (L->n == L->cap) {
    L->cap = L->cap ? L->cap * 2 : 32;
    L->v = cns_xrealloc(L->v, L->cap * sizeof *L->v);
  }
  entry *e = &L->v[L->n++];
  memset(e, 0, sizeof *e);
  return e;
}

static char *col_dup(sqlite3_stmt *st, int i) {
  const char *t = (const char *)sqlite3_column_text(st, i);
  return t ? cns_xstrdup(t) : NULL;
}

/* The title of a note (by id) or of a stored page (by url); caller frees. */
static char *title_of(sqlite3 *db, long long note, const char *url) {
  sqlite3_stmt *st;
  const char *sql = note ? "SELECT title FROM note WHERE id = ?"
                         : "SELECT title FROM page WHERE url = ?";
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return NULL;
  if (note) sqlite3_bind_int64(st, 1, note);
  else sqlite3_bind_text(st, 1, url, -1, SQLITE_STATIC);
  char *t = sqlite3_step(st) == SQLITE_ROW ? col_dup(st, 0) : NULL;
  sqlite3_finalize(st);
  return t;
}

/* Is there a stored page, or a regular file inside the root, at target? */
static int file_exists(cns *h, const char *target) {
  long long dummy;
  buf err = BUF_INIT;
  int rc = first_id(h->db, "SELECT id FROM page WHERE url = ?1", target,
                    &dummy, &err);
  buf_free(&err);
  if (!rc && dummy) return 1;
  char *p = cns_xasprintf("%s/%s", h->root, target);
  char real[PATH_MAX];
  struct stat sb;
  size_t rl = strlen(h->root);
  int ok = realpath(p, real) && strncmp(real, h->root, rl) == 0 &&
           real[rl] == '/' && stat(real, &sb) == 0 && S_ISREG(sb.st_mode);
  free(p);
  return ok;
}

/* Fill e's target fields for a link (kind, url, target) in note self. */
static int fill_target(cns *h, entry *e, long long self, const char *selfpath,
                       buf *err) {
  long long to = 0;
  const char *t = e->target;
  if (e->l.kind != MD_LINK_WIKI && e->url && e->url[0] == '#') {
    to = self;
    free(e->target);
    e->target = cns_xstrdup(selfpath);
  } else if (t && links_is_web(t) && e->l.kind != MD_LINK_WIKI) {
    e->l.target_kind = CNS_TARGET_PAGE;
    e->title = title_of(h->db, 0, t);
    return CNS_OK;
  } else {
    int rc = links_resolve(h->db, e->l.kind, t, &to, err);
    if (rc) return rc;
  }
  if (to) {
    char *p = NULL;
    int rc = path_of(h->db, to, &p, err);
    if (rc) return rc;
    free(e->target);
    e->target = p;
    e->l.target_kind = CNS_TARGET_NOTE;
    e->title = title_of(h->db, to, NULL);
  } else if (t && e->l.kind != MD_LINK_WIKI && file_exists(h, t)) {
    e->l.target_kind = CNS_TARGET_PAGE;
    e->title = title_of(h->db, 0, t);
  } else {
    free(e->target);
    e->target = NULL;
    e->l.target_kind = CNS_TARGET_NONE;
  }
  return CNS_OK;
}

static const char *link_cols =
    "SELECT n.path, k.line, k.col, k.kind, coalesce(k.text, k.target), "
    "coalesce(k.url, k.target), k.target "
    "FROM link k JOIN note n ON n.id = k.note ";

static void read_row(sqlite3_stmt *st, entry *e) {
  e->path = col_dup(st, 0);
  e->l.line = sqlite3_column_int(st, 1);
  e->l.column = sqlite3_column_int(st, 2);
  e->l.kind = sqlite3_column_int(st, 3);
  e->text = col_dup(st, 4);
  e->url = col_dup(st, 5);
  e->target = col_dup(st, 6);
}

static int add_outgoing(cns *h, cns_links *L, long long note) {
  sqlite3_stmt *st;
  buf sql = BUF_INIT;
  buf_addf(&sql, "%sWHERE k.note = ? ORDER BY k.off", link_cols);
  int prc = sqlite3_prepare_v2(h->db, buf_str(&sql), -1, &st, NULL);
  buf_free(&sql);
  if (prc != SQLITE_OK) return cns_dberr(h, "read the links");
  sqlite3_bind_int64(st, 1, note);
  int rc = CNS_OK, src;
  buf err = BUF_INIT;
  while ((src = sqlite3_step(st)) == SQLITE_ROW) {
    entry *e = new_entry(L);
    read_row(st, e);
    e->l.outgoing = 1;
    if ((rc = fill_target(h, e, note, L->path, &err)) != CNS_OK) {
      rc = cns_seterr(h, rc, "%s", buf_str(&err));
      break;
    }
  }
  if (!rc && src != SQLITE_DONE) rc = cns_dberr(h, "read the links");
  sqlite3_finalize(st);
  buf_free(&err);
  return rc;
}

static int add_incoming(cns *h, cns_links *L, long long note) {
  links_ids ids = {0};
  buf err = BUF_INIT;
  int rc = backlinks(h->db, note, &ids, NULL, &err);
  if (rc) rc = cns_seterr(h, rc, "%s", buf_str(&err));
  buf_free(&err);
  ids_sort_unique(&ids);
  sqlite3_stmt *st = NULL;
  buf sql = BUF_INIT;
  buf_addf(&sql, "%sWHERE k.id = ?", link_cols);
  if (!rc && sqlite3_prepare_v2(h->db, buf_str(&sql), -1, &st, NULL) !=
                 SQLITE_OK)
    rc = cns_dberr(h, "read the links");
  buf_free(&sql);
  size_t first = L->n;
  for (size_t i = 0; !rc && i < ids.n; i++) {
    sqlite3_bind_int64(st, 1, ids.v[i]);
    if (sqlite3_step(st) == SQLITE_ROW) {
      entry *e = new_entry(L);
      read_row(st, e);
      free(e->target);
      e->target = cns_xstrdup(L->path);
      e->l.target_kind = CNS_TARGET_NOTE;
      e->title = title_of(h->db, note, NULL);
    }
    sqlite3_reset(st);
  }
  sqlite3_finalize(st);
  links_ids_free(&ids);
  /* by path, then line and column */
  for (size_t i = first + 1; i < L->n; i++) {
    entry tmp = L->v[i];
    size_t j = i;
    while (j > first) {
      entry *p = &L->v[j - 1];
      int c = strcmp(p->path, tmp.path);
      if (c < 0 || (c == 0 && (p->l.line < tmp.l.line ||
                               (p->l.line == tmp.l.line &&
                                p->l.column <= tmp.l.column))))
        break;
      L->v[j] = *p;
      j--;
    }
    L->v[j] = tmp;
  }
  return rc;
}

int cns_links_new(cns *h, const char *note, cns_links **out) {
  *out = NULL;
  buf_reset(&h->err);
  cns_links *L = cns_xcalloc(1, sizeof *L);
  long long id;
  buf err = BUF_INIT;
  int rc = links_find_note(h->db, h->root, NULL, note, &id, &L->path, &err);
  if (rc) rc = cns_seterr(h, rc, "%s", buf_str(&err));
  buf_free(&err);
  if (!rc) rc = add_outgoing(h, L, id);
  if (!rc) rc = add_incoming(h, L, id);
  if (rc) {
    cns_links_free(L);
    return rc;
  }
  for (size_t i = 0; i < L->n; i++) {
    entry *e = &L->v[i];
    e->l.path = e->path;
    e->l.text = e->text ? e->text : "";
    e->l.url = e->url ? e->url : "";
    e->l.target = e->target;
    e->l.target_title = e->title;
  }
  *out = L;
  return CNS_OK;
}

const char *cns_links_path(const cns_links *L) { return L->path; }

int cns_links_next(cns_links *L, const cns_link **link) {
  if (L->next >= L->n) return CNS_DONE;
  *link = &L->v[L->next++].l;
  return CNS_OK;
}

void cns_links_free(cns_links *L) {
  if (!L) return;
  for (size_t i = 0; i < L->n; i++) {
    entry *e = &L->v[i];
    free(e->path);
    free(e->text);
    free(e->url);
    free(e->target);
    free(e->title);
  }
  free(L->v);
  free(L->path);
  free(L);
}
