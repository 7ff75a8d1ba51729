/*
** fetch.c -- download the pages the notes link to and store their text.
**
** What to fetch comes from the index alone: every distinct link.target
** of an inline link (not an image) that is an http(s) URL, less those
** page already holds (unless --refresh, or older than --max-age), plus
** every linked local file that is text but not a note (.html, .rst,
** .org...; links_file_kind()).  Pages no link leads to any more are
** dropped first, so the table stays what the notes point at.
**
** Downloading is libcurl's multi interface on one thread: at most
** opts->jobs transfers at once and at most PER_HOST to one host[:port]
** (jobs are grouped by host and started round-robin across hosts, so
** one site linked a thousand times neither hogs the slots nor gets
** hammered).  We schedule rather than let libcurl queue (its
** MAX_HOST_CONNECTIONS), because a queued transfer's timeout would run
** while it waits.
** Every transfer is bounded: connect and total timeouts, MAX_REDIRS
** redirects, MAX_BYTES of body (announced or received: past it the
** transfer is aborted and recorded as "too big"), http and https only,
** also after a redirect.  Compressed bodies are accepted and inflated by
** libcurl.  A page stored with an ETag or Last-Modified is revalidated
** (If-None-Match / If-Modified-Since); 304 means "unchanged".
**
** Local files are read directly (realpath checked against the root: a
** symbolic link cannot lead out), with their mtime in ns as
** last_modified; an unchanged file is only marked as checked.
**
** Bytes become text by content type (fetch_classify): HTML through
** html.c, text/plain and markdown converted to UTF-8 as they are; any
** other type (images, PDFs) is recorded with its status and type but no
** text.  Failures (DNS, refused, timeout, HTTP >= 400, too big, too many
** redirects) are recorded in page.error and counted; none of them is an
** error of cns_fetch(), which fails only when the index cannot be
** written.  A refresh that fails keeps the text fetched before.
**
** Durability: finished pages are collected and written in batches (every
** BATCH_PAGES pages or BATCH_MS), each its own transaction, so the index
** is never held for long (a search may update it meanwhile) and a kill
** loses at most one batch.  cns_interrupt() stops the loop: transfers in
** flight are abandoned, what finished is written, CNS_EINTR returned.
** The next run starts where this one stopped, because finished pages are
** in page and are no longer "to fetch".
*/
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include "cnsint.h"

#define MAX_BYTES (5L << 20)  /* 5 MB of body, after decompression */
#define MAX_REDIRS 5L
#define PER_HOST 2
#define BATCH_PAGES 50
#define BATCH_MS 2000
#define DEFAULT_JOBS 8
#define DEFAULT_TIMEOUT 30L
#define DEFAULT_CONNECT 10L
#define USER_AGENT "cnsearch/" CNS_VERSION " (+notes search)"

/* ---- content types ----------------------------------------------------- */

int fetch_classify(const char *ct, char **charset) {
  *charset = NULL;
  if (!ct) return FETCH_OTHER;
  while (*ct == ' ' || *ct == '\t') ct++;
  size_t n = strcspn(ct, "; \t");
  char mime[128];
  if (n >= sizeof mime) n = sizeof mime - 1;
  for (size_t i = 0; i < n; i++) mime[i] = (char)tolower((unsigned char)ct[i]);
  mime[n] = 0;
  for (const char *p = strchr(ct, ';'); p; p = strchr(p + 1, ';')) {
    const char *q = p + 1;
    while (*q == ' ' || *q == '\t') q++;
    if (strncasecmp(q, "charset=", 8) != 0) continue;
    q += 8;
    int quoted = *q == '"';
    q += quoted;
    size_t m = strcspn(q, quoted ? "\"" : "; \t");
    if (m) {
      *charset = cns_xstrndup(q, m);
      for (char *c = *charset; *c; c++) *c = (char)tolower((unsigned char)*c);
    }
    break;
  }
  if (!strcmp(mime, "text/html") || !strcmp(mime, "application/xhtml+xml"))
    return FETCH_HTML;
  if (!strcmp(mime, "text/markdown") || !strcmp(mime, "text/x-markdown"))
    return FETCH_MARKDOWN;
  if (!strncmp(mime, "text/", 5) && strcmp(mime, "text/css") != 0 &&
      strcmp(mime, "text/javascript") != 0)
    return FETCH_TEXT;
  return FETCH_OTHER;
}

/* A body without a Content-Type: HTML if it looks like it, text if it is
** UTF-8 without NULs, else nothing. */
static int sniff(const char *b, size_t n) {
  size_t i = 0;
  while (i < n && isspace((unsigned char)b[i])) i++;
  size_t look = n - i < 1024 ? n - i : 1024;
  if (look && b[i] == '<') {
    for (size_t k = i; k + 5 <= i + look; k++)
      if (!strncasecmp(b + k, "<html", 5) || !strncasecmp(b + k, "<body", 5) ||
          !strncasecmp(b + k, "<!doc", 5))
        return FETCH_HTML;
  }
  if (memchr(b, 0, n)) return FETCH_OTHER;
  return FETCH_TEXT;
}

/* ---- results, written in batches --------------------------------------- */

/* A finished page waiting for the next batch; every string owned. */
typedef struct result {
  int keep_text;     /* store_mark_page(): a 304, or a refresh that failed */
  long status;
  long long fetched;
  char *url, *final_url, *content_type, *title, *heading, *body, *etag,
      *last_modified, *error;
} result;

typedef struct fetcher {
  cns *h;
  store *st;
  const cns_fetch_opts *o;
  cns_fetch_stats *stats;
  cns_fetch_progress_fn progress;
  void *arg;
  result *res;
  size_t nres, cap;
  struct timespec last_flush;
  long long now;
  buf err;           /* the store's messages */
} fetcher;

static long long ms_since(const struct timespec *t) {
  struct timespec n;
  clock_gettime(CLOCK_MONOTONIC, &n);
  return (long long)(n.tv_sec - t->tv_sec) * 1000 +
         (n.tv_nsec - t->tv_nsec) / 1000000;
}

static result *new_result(fetcher *f, const char *url) {
  if (f->nres == f->cap) {
    f->cap = f->cap ? f->cap * 2 : 64;
    f->res = cns_xrealloc(f->res, f->cap * sizeof *f->res);
  }
  result *r = &f->res[f->nres++];
  memset(r, 0, sizeof *r);
  r->url = cns_xstrdup(url);
  r->fetched = (long long)time(NULL);
  return r;
}

static void result_free(result *r) {
  char *s[] = {r->url, r->final_url, r->content_type, r->title, r->heading,
               r->body, r->etag, r->last_modified, r->error};
  for (size_t i = 0; i < sizeof s / sizeof *s; i++) free(s[i]);
}

/* The finished pages in one transaction: those with new text replaced
** together (store_put_pages(), which orders the work for FTS5), then the
** attempts that keep their old text. */
static int write_pages(fetcher *f) {
  store_page *pg = cns_xcalloc(f->nres ? f->nres : 1, sizeof *pg);
  size_t n = 0;
  int rc = CNS_OK;
  for (size_t i = 0; i < f->nres; i++) {
    const result *r = &f->res[i];
    if (!r->keep_text)
      pg[n++] = (store_page){r->url, r->final_url, r->status,
                             r->content_type, r->title, r->heading, r->body,
                             r->fetched, r->etag, r->last_modified, r->error};
  }
  rc = store_put_pages(f->st, pg, n, &f->err);
  for (size_t i = 0; i < f->nres && !rc; i++) {
    const result *r = &f->res[i];
    if (r->keep_text)
      rc = store_mark_page(f->st, r->url, r->status, r->error, r->fetched,
                           &f->err);
  }
  free(pg);
  return rc;
}

static int write_batch(fetcher *f) {
  buf_reset(&f->err);
  int rc = store_begin(f->st, &f->err);
  if (!rc) rc = write_pages(f);
  if (!rc) rc = store_commit(f->st, &f->err);
  if (rc) store_rollback(f->st);
  return rc;
}

/* The message for a failed write (store.c's, in f->err). */
static int write_error(fetcher *f, int rc) {
  if (rc == CNS_EBUSY)
    return cns_seterr(f->h, rc, "index '%s' is locked by another cnsearch; "
                                "try again", f->h->index_path);
  return cns_seterr(f->h, rc, "%s in '%s'", buf_str(&f->err),
                    f->h->index_path);
}

/* Write the finished pages in one transaction.  An interrupt that lands
** inside it (cns_interrupt() also interrupts SQLite) only costs a retry:
** SQLite forgets it once no statement runs. */
static int flush(fetcher *f) {
  clock_gettime(CLOCK_MONOTONIC, &f->last_flush);
  if (!f->nres) return CNS_OK;
  int rc = write_batch(f);
  if (rc == CNS_EINTR) rc = write_batch(f);
  if (rc) rc = write_error(f, rc);
  for (size_t i = 0; i < f->nres; i++) result_free(&f->res[i]);
  f->nres = 0;
  return rc;
}

static int maybe_flush(fetcher *f) {
  if (f->nres >= BATCH_PAGES || ms_since(&f->last_flush) >= BATCH_MS)
    return flush(f);
  return CNS_OK;
}

static void done_one(fetcher *f) {
  f->stats->done++;
  if (f->progress) f->progress(f->arg, f->stats);
}

/* Turn body bytes of a class into r's title, heading and body. */
static void to_text(result *r, int cls, const char *charset, const char *b,
                    size_t n) {
  if (cls == FETCH_HTML) {
    html_text t;
    html_to_text(b, n, charset, &t);
    r->title = t.title;
    r->heading = t.heading;
    r->body = t.body;
    return;
  }
  size_t len;
  r->body = html_plain_to_utf8(b, n, charset, &len);
  r->heading = cns_xstrdup("");
  if (cls != FETCH_MARKDOWN) return;
  md_note md;
  if (md_note_parse(r->body, len, "", &md) == CNS_OK) {
    buf hs = BUF_INIT;
    for (size_t i = 0; i < md.nsections; i++) {
      if (!md.sections[i].heading[0]) continue;
      if (hs.len) buf_addc(&hs, '\n');
      buf_adds(&hs, md.sections[i].heading);
    }
    free(r->heading);
    r->heading = buf_detach(&hs);
    if (md.title[0]) r->title = cns_xstrdup(md.title);
  }
  md_note_free(&md);
}

/* ---- the work list ----------------------------------------------------- */

typedef struct job {
  char *url;
  char *host;              /* "host[:port]", lower-case */
  char *etag, *last_modified; /* of the stored page: revalidate */
  int has_text;            /* the stored page has text to keep */
} job;

typedef struct joblist {
  job *v;
  size_t n, cap;
} joblist;

static void jobs_free(joblist *l) {
  for (size_t i = 0; i < l->n; i++) {
    free(l->v[i].url);
    free(l->v[i].host);
    free(l->v[i].etag);
    free(l->v[i].last_modified);
  }
  free(l->v);
}

static char *col(sqlite3_stmt *st, int i) {
  const char *t = (const char *)sqlite3_column_text(st, i);
  return t ? cns_xstrdup(t) : NULL;
}

static char *host_of(const char *url) {
  const char *p = strstr(url, "://");
  p = p ? p + 3 : url;
  size_t n = strcspn(p, "/?#");
  const char *at = memchr(p, '@', n);
  if (at) {
    n -= (size_t)(at + 1 - p);
    p = at + 1;
  }
  char *h = cns_xstrndup(p, n);
  for (char *c = h; *c; c++) *c = (char)tolower((unsigned char)*c);
  return h;
}

/* The http(s) pages to fetch (web) and the local files to read (!web). */
static int load_jobs(fetcher *f, int web, joblist *out) {
  static const char *sql =
      "SELECT DISTINCT k.target, p.id IS NOT NULL, p.body IS NOT NULL, "
      "p.etag, p.last_modified, p.fetched FROM link k "
      "LEFT JOIN page p ON p.url = k.target "
      "WHERE k.kind = 0 AND k.target IS NOT NULL AND "
      "(substr(k.target, 1, 7) = 'http://' OR "
      " substr(k.target, 1, 8) = 'https://') = ?1 AND "
      "(?1 OR NOT EXISTS (SELECT 1 FROM note n WHERE n.path = k.target)) "
      "ORDER BY k.target";
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(f->h->db, sql, -1, &st, NULL) != SQLITE_OK)
    return cns_dberr(f->h, "read the links to fetch");
  sqlite3_bind_int(st, 1, web);
  long long cutoff = f->o->max_age_days > 0
                         ? f->now - f->o->max_age_days * 86400LL
                         : LLONG_MIN;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const char *url = (const char *)sqlite3_column_text(st, 0);
    int stored = sqlite3_column_int(st, 1);
    if (web && stored && !f->o->refresh &&
        sqlite3_column_int64(st, 5) >= cutoff)
      continue;
    if (!web && !links_file_kind(url)) continue;
    if (out->n == out->cap) {
      out->cap = out->cap ? out->cap * 2 : 64;
      out->v = cns_xrealloc(out->v, out->cap * sizeof *out->v);
    }
    job *j = &out->v[out->n++];
    memset(j, 0, sizeof *j);
    j->url = cns_xstrdup(url);
    j->host = web ? host_of(url) : NULL;
    j->has_text = sqlite3_column_int(st, 2);
    j->etag = col(st, 3);
    j->last_modified = col(st, 4);
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return cns_dberr(f->h, "read the links to fetch");
  return CNS_OK;
}

/* Record a failure: kept text stays, else a row with the error. */
static void fail_job(fetcher *f, const job *j, long status, const char *msg,
                     const char *final_url, const char *ctype) {
  result *r = new_result(f, j->url);
  r->keep_text = j->has_text;
  r->status = status;
  r->error = cns_xstrdup(msg);
  if (!r->keep_text) {
    r->final_url = final_url ? cns_xstrdup(final_url) : NULL;
    r->content_type = ctype ? cns_xstrdup(ctype) : NULL;
  }
  f->stats->failed++;
}

/* ---- local files ------------------------------------------------------- */

/* Read root/rel (a regular file inside the root, at most MAX_BYTES) into
** b; on failure a message (caller frees) in *why. */
static int read_local(fetcher *f, const char *rel, buf *b, struct stat *sb,
                      char **why) {
  char *path = cns_xasprintf("%s/%s", f->h->root, rel);
  char real[PATH_MAX];
  size_t rl = strlen(f->h->root);
  int fd = -1, ok = 0;
  if (!realpath(path, real))
    *why = cns_xasprintf("cannot read '%s': %s", rel, strerror(errno));
  else if (strncmp(real, f->h->root, rl) != 0 || real[rl] != '/')
    *why = cns_xasprintf("'%s' leads outside the notes folder", rel);
  else if ((fd = open(real, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, sb) != 0)
    *why = cns_xasprintf("cannot read '%s': %s", rel, strerror(errno));
  else if (!S_ISREG(sb->st_mode))
    *why = cns_xasprintf("'%s' is not a file", rel);
  else if (sb->st_size > MAX_BYTES)
    *why = cns_xstrdup("too big (over 5 MB)");
  else {
    char chunk[65536];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof chunk)) > 0 && b->len <= MAX_BYTES)
      buf_add(b, chunk, (size_t)n);
    if (n < 0) *why = cns_xasprintf("cannot read '%s': %s", rel, strerror(errno));
    else ok = 1;
  }
  if (fd >= 0) close(fd);
  free(path);
  return ok;
}

static int fetch_local(fetcher *f, const joblist *jobs) {
  int rc = CNS_OK;
  for (size_t i = 0; i < jobs->n && !rc; i++) {
    if (f->h->interrupted) break;
    const job *j = &jobs->v[i];
    buf b = BUF_INIT;
    struct stat sb;
    char *why = NULL;
    if (!read_local(f, j->url, &b, &sb, &why)) {
      fail_job(f, j, 0, why, NULL, NULL);
    } else {
      char *mtime = cns_xasprintf("%lld", (long long)sb.st_mtim.tv_sec *
                                              1000000000LL +
                                          sb.st_mtim.tv_nsec);
      if (j->last_modified && !strcmp(j->last_modified, mtime) &&
          j->has_text && !f->o->refresh) {
        result *r = new_result(f, j->url);
        r->keep_text = 1;
        f->stats->unchanged++;
      } else {
        int cls = links_file_kind(j->url) == LINKS_FILE_HTML ? FETCH_HTML
                                                             : FETCH_TEXT;
        result *r = new_result(f, j->url);
        to_text(r, cls, NULL, buf_str(&b), b.len);
        r->content_type = cns_xstrdup(cls == FETCH_HTML ? "text/html"
                                                        : "text/plain");
        r->last_modified = mtime;
        mtime = NULL;
        f->stats->fetched++;
        f->stats->bytes += (long long)b.len;
      }
      free(mtime);
    }
    free(why);
    buf_free(&b);
    done_one(f);
    rc = maybe_flush(f);
  }
  return rc;
}

/* ---- http(s) ----------------------------------------------------------- */

typedef struct host {
  size_t next, end;        /* jobs [next, end) of this host wait */
  int active;
} host;

typedef struct xfer {
  job *j;
  host *ho;
  CURL *e;
  buf body;
  int too_big;
  char *etag, *last_modified;  /* of the last response */
  struct curl_slist *hdrs;
  char errbuf[CURL_ERROR_SIZE];
} xfer;

static size_t on_body(char *p, size_t size, size_t n, void *arg) {
  xfer *x = arg;
  size_t len = size * n;
  if (x->body.len + len > (size_t)MAX_BYTES) {
    x->too_big = 1;
    return 0; /* abort: CURLE_WRITE_ERROR */
  }
  buf_add(&x->body, p, len);
  return len;
}

/* Keep the validators of the last response (redirects have their own). */
static size_t on_header(char *p, size_t size, size_t n, void *arg) {
  xfer *x = arg;
  size_t len = size * n;
  char **slot = NULL;
  size_t skip = 0;
  if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
    free(x->etag);
    free(x->last_modified);
    x->etag = x->last_modified = NULL;
  } else if (len > 5 && strncasecmp(p, "ETag:", 5) == 0) {
    slot = &x->etag;
    skip = 5;
  } else if (len > 14 && strncasecmp(p, "Last-Modified:", 14) == 0) {
    slot = &x->last_modified;
    skip = 14;
  }
  if (slot) {
    const char *v = p + skip, *end = p + len;
    while (v < end && (*v == ' ' || *v == '\t')) v++;
    while (end > v && strchr(" \t\r\n", end[-1])) end--;
    free(*slot);
    *slot = end > v ? cns_xstrndup(v, (size_t)(end - v)) : NULL;
  }
  return len;
}

static CURL *make_easy(fetcher *f, xfer *x) {
  CURL *e = curl_easy_init();
  if (!e) return NULL;
  long timeout = f->o->timeout > 0 ? f->o->timeout : DEFAULT_TIMEOUT;
  long connect = f->o->connect_timeout > 0 ? f->o->connect_timeout
                                           : DEFAULT_CONNECT;
  if (connect > timeout) connect = timeout;
  curl_easy_setopt(e, CURLOPT_URL, x->j->url);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(e, CURLOPT_MAXREDIRS, MAX_REDIRS);
  curl_easy_setopt(e, CURLOPT_AUTOREFERER, 1L);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, connect);
  curl_easy_setopt(e, CURLOPT_TIMEOUT, timeout);
  curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)MAX_BYTES);
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(e, CURLOPT_USERAGENT, USER_AGENT);
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
  curl_easy_setopt(e, CURLOPT_PROTOCOLS, CURLPROTO_HTTP | CURLPROTO_HTTPS);
  curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS,
                   CURLPROTO_HTTP | CURLPROTO_HTTPS);
#endif
  x->hdrs = curl_slist_append(
      NULL, "Accept: text/html,application/xhtml+xml,text/plain;q=0.9,"
            "text/markdown;q=0.9,*/*;q=0.5");
  if (x->j->has_text && x->j->etag) {
    char *v = cns_xasprintf("If-None-Match: %s", x->j->etag);
    x->hdrs = curl_slist_append(x->hdrs, v);
    free(v);
  }
  if (x->j->has_text && x->j->last_modified) {
    char *v = cns_xasprintf("If-Modified-Since: %s", x->j->last_modified);
    x->hdrs = curl_slist_append(x->hdrs, v);
    free(v);
  }
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->hdrs);
  return e;
}

static void xfer_free(xfer *x) {
  if (!x) return;
  curl_easy_cleanup(x->e);
  curl_slist_free_all(x->hdrs);
  buf_free(&x->body);
  free(x->etag);
  free(x->last_modified);
  free(x);
}

/* A transfer error as one lower-case line. */
static char *curl_message(CURLcode code, const xfer *x, long timeout) {
  switch (code) {
  case CURLE_FILESIZE_EXCEEDED: return cns_xstrdup("too big (over 5 MB)");
  case CURLE_WRITE_ERROR:
    if (x->too_big) return cns_xstrdup("too big (over 5 MB)");
    break;
  case CURLE_OPERATION_TIMEDOUT:
    return cns_xasprintf("timed out after %ld s", timeout);
  case CURLE_TOO_MANY_REDIRECTS:
    return cns_xasprintf("too many redirects (more than %ld)", MAX_REDIRS);
  case CURLE_UNSUPPORTED_PROTOCOL:
    return cns_xstrdup("redirected to a scheme other than http(s)");
  case CURLE_COULDNT_RESOLVE_HOST:
    return cns_xasprintf("cannot resolve host '%s'", x->j->host);
  default: break;
  }
  char *m = cns_xstrdup(x->errbuf[0] ? x->errbuf : curl_easy_strerror(code));
  m[0] = (char)tolower((unsigned char)m[0]);
  size_t n = strlen(m);
  while (n && strchr(" .\n", m[n - 1])) m[--n] = 0;
  return m;
}

static void finish(fetcher *f, xfer *x, CURLcode code) {
  const job *j = x->j;
  long status = 0;
  char *final_url = NULL, *ctype = NULL;
  curl_easy_getinfo(x->e, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo(x->e, CURLINFO_EFFECTIVE_URL, &final_url);
  curl_easy_getinfo(x->e, CURLINFO_CONTENT_TYPE, &ctype);
  f->stats->bytes += (long long)x->body.len;
  if (code != CURLE_OK) {
    char *m = curl_message(code, x, f->o->timeout > 0 ? f->o->timeout
                                                      : DEFAULT_TIMEOUT);
    fail_job(f, j, status, m, final_url, ctype);
    free(m);
    return;
  }
  if (status == 304 && j->has_text) {
    result *r = new_result(f, j->url);
    r->keep_text = 1;
    f->stats->unchanged++;
    return;
  }
  if (status < 200 || status >= 300) {
    char *m = cns_xasprintf("HTTP %ld", status);
    fail_job(f, j, status, m, final_url, ctype);
    free(m);
    return;
  }
  char *charset = NULL;
  int cls = ctype ? fetch_classify(ctype, &charset)
                  : sniff(buf_str(&x->body), x->body.len);
  result *r = new_result(f, j->url);
  r->status = status;
  r->final_url = final_url ? cns_xstrdup(final_url) : NULL;
  r->content_type = ctype ? cns_xstrdup(ctype) : NULL;
  r->etag = x->etag;
  r->last_modified = x->last_modified;
  x->etag = x->last_modified = NULL;
  if (cls == FETCH_OTHER) {
    f->stats->skipped++;
  } else {
    to_text(r, cls, charset, buf_str(&x->body), x->body.len);
    f->stats->fetched++;
  }
  free(charset);
}

static int cmp_job(const void *a, const void *b) {
  const job *x = a, *y = b;
  int c = strcmp(x->host, y->host);
  return c ? c : strcmp(x->url, y->url);
}

/* The transfers in flight. */
typedef struct live {
  xfer **v;
  size_t n;
} live;

/* Start the next waiting job of some host with a free slot, round-robin
** from *cursor.  Returns 0 when none can start now. */
static int start_one(fetcher *f, CURLM *m, joblist *jobs, host *hosts,
                     size_t nhosts, size_t *cursor, live *lv) {
  for (size_t k = 0; k < nhosts; k++) {
    host *ho = &hosts[(*cursor + k) % nhosts];
    if (ho->next >= ho->end || ho->active >= PER_HOST) continue;
    *cursor = (*cursor + k + 1) % nhosts;
    xfer *x = cns_xcalloc(1, sizeof *x);
    x->j = &jobs->v[ho->next++];
    x->ho = ho;
    x->e = make_easy(f, x);
    if (!x->e || curl_multi_add_handle(m, x->e) != CURLM_OK) {
      fail_job(f, x->j, 0, "cannot start the download", NULL, NULL);
      xfer_free(x);
      done_one(f);
      return 1;
    }
    ho->active++;
    lv->v[lv->n++] = x;
    return 1;
  }
  return 0;
}

static void finish_msgs(fetcher *f, CURLM *m, live *lv) {
  CURLMsg *msg;
  int left;
  while ((msg = curl_multi_info_read(m, &left)) != NULL) {
    if (msg->msg != CURLMSG_DONE) continue;
    size_t i = 0;
    while (i < lv->n && lv->v[i]->e != msg->easy_handle) i++;
    if (i == lv->n) continue;
    xfer *x = lv->v[i];
    lv->v[i] = lv->v[--lv->n];
    CURLcode code = msg->data.result;
    curl_multi_remove_handle(m, x->e);
    finish(f, x, code);
    x->ho->active--;
    xfer_free(x);
    done_one(f);
  }
}

static int fetch_web(fetcher *f, joblist *jobs) {
  if (!jobs->n) return CNS_OK;
  qsort(jobs->v, jobs->n, sizeof *jobs->v, cmp_job);
  host *hosts = cns_xcalloc(jobs->n, sizeof *hosts);
  size_t nhosts = 0;
  for (size_t i = 0; i < jobs->n; i++) {
    if (!i || strcmp(jobs->v[i].host, jobs->v[i - 1].host) != 0)
      hosts[nhosts++].next = i;
    hosts[nhosts - 1].end = i + 1;
  }
  int maxjobs = f->o->jobs > 0 ? f->o->jobs : DEFAULT_JOBS;
  live lv = {cns_xcalloc((size_t)maxjobs, sizeof *lv.v), 0};
  CURLM *m = curl_multi_init();
  size_t cursor = 0;
  int rc = CNS_OK;
  for (;;) {
    while (!f->h->interrupted && lv.n < (size_t)maxjobs &&
           start_one(f, m, jobs, hosts, nhosts, &cursor, &lv))
      ;
    if (!lv.n || f->h->interrupted) break;
    int running;
    curl_multi_perform(m, &running);
    finish_msgs(f, m, &lv);
    if ((rc = maybe_flush(f)) != CNS_OK) break;
    if (lv.n) curl_multi_poll(m, NULL, 0, 100, NULL);
  }
  /* Abandon what is still in flight (after an interrupt or an error). */
  for (size_t i = 0; i < lv.n; i++) {
    curl_multi_remove_handle(m, lv.v[i]->e);
    xfer_free(lv.v[i]);
  }
  free(lv.v);
  curl_multi_cleanup(m);
  free(hosts);
  return rc;
}

/* ---- the entry points -------------------------------------------------- */

static int prune(fetcher *f) {
  int rc = store_begin(f->st, &f->err);
  if (!rc) rc = store_prune_pages(f->st, &f->stats->pruned, &f->err);
  if (!rc) rc = store_commit(f->st, &f->err);
  if (rc) {
    store_rollback(f->st);
    return write_error(f, rc);
  }
  return CNS_OK;
}

int cns_fetch(cns *h, const cns_fetch_opts *opts, cns_fetch_stats *stats,
              cns_fetch_progress_fn progress, void *arg) {
  cns_fetch_opts dflt = {0};
  cns_fetch_stats local;
  if (!opts) opts = &dflt;
  if (!stats) stats = &local;
  memset(stats, 0, sizeof *stats);
  buf_reset(&h->err);
  if (h->flags & CNS_OPEN_READONLY)
    return cns_seterr(h, CNS_EUSAGE, "the index was opened read-only");
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    return cns_seterr(h, CNS_EIO, "cannot start libcurl");
  fetcher f = {0};
  f.h = h;
  f.o = opts;
  f.stats = stats;
  f.progress = progress;
  f.arg = arg;
  f.now = (long long)time(NULL);
  clock_gettime(CLOCK_MONOTONIC, &f.last_flush);
  joblist web = {0}, files = {0};
  int rc = store_open(h->db, &f.st, &f.err);
  if (rc) rc = write_error(&f, rc);
  if (!rc) rc = prune(&f);
  if (!rc) rc = load_jobs(&f, 0, &files);
  if (!rc) rc = load_jobs(&f, 1, &web);
  stats->total = (long)(files.n + web.n);
  if (!rc && progress) progress(arg, stats);
  if (!rc) rc = fetch_local(&f, &files);
  if (!rc) rc = fetch_web(&f, &web);
  int frc = flush(&f); /* whatever finished, even after an interrupt */
  if (!rc) rc = frc;
  for (size_t i = 0; i < f.nres; i++) result_free(&f.res[i]);
  free(f.res);
  buf_free(&f.err);
  store_close(f.st);
  jobs_free(&web);
  jobs_free(&files);
  curl_global_cleanup();
  if (h->interrupted && (!rc || rc == CNS_EINTR))
    rc = cns_seterr(h, CNS_EINTR,
                    "interrupted; the %ld pages finished are kept",
                    stats->fetched + stats->unchanged + stats->skipped +
                        stats->failed);
  return rc;
}

int cns_fetch_failures(cns *h, cns_failure_fn fn, void *arg) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(h->db,
                         "SELECT url, error FROM page WHERE error IS NOT NULL "
                         "ORDER BY url",
                         -1, &st, NULL) != SQLITE_OK)
    return cns_dberr(h, "read the failed pages");
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW)
    fn(arg, (const char *)sqlite3_column_text(st, 0),
       (const char *)sqlite3_column_text(st, 1));
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return cns_dberr(h, "read the failed pages");
  return CNS_OK;
}
