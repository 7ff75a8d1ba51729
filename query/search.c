/*
** search.c -- run a compiled query against the index and rank the hits.
**
** Two levels, because people ask about notes but want to land on a place:
**
**   1. Notes.  The query plan (qparse.c) gives an FTS5 expression over the
**      one-row-per-note table note_fts, so "all words" means all words in
**      the note, and the structured filters become SQL conditions
**      (regexp() from regex.c, tags, dates).  Notes come back ranked by
**      BM25 with field weights (title > heading > link text > body).
**      When requiring every word finds fewer notes than asked for, the OR
**      of the words ranks the rest below them (tier 1): long natural
**      language queries still find something.  That OR leaves out
**      stopwords (qparse.c), and for long queries on a large collection
**      its ranking is refined by pseudo-relevance feedback: words typical
**      of its best notes are added with a small weight (cns_rank(), a
**      bm25() with per-phrase weights, below).
**
**   2. Places.  For each note that will be shown, its text is tokenized
**      with the index's own tokenizer and every occurrence of a query
**      term (or regex match, or link whose URL passes a url: filter)
**      becomes a byte range.  Each section (the text under a heading)
**      holding ranges is a hit; sections are ordered by how many distinct
**      terms they hold and how close together, so the first hit of a note
**      is where its words cluster best.  The k-th hit of a note scores
**      note_score * coverage / (1 + k/2), so a note's second-best section
**      can still outrank a weaker note's best.
**
** Work is bounded by the limit: notes are fetched in rank order and
** processed only while one of them could still place a hit in the top
** `limit`.  Everything is computed in cns_search_new(), so an error never
** leaves half the results printed; cns_search_next() only hands them out.
*/
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cnsint.h"

/* Field weights for bm25(note_fts, title, heading, link, body) come from
** the config (core/config.c gives the defaults). */
#define W(s, i) ((s)->h->cfg.weights[i])

typedef struct term {
  tok_list toks;     /* the term in query-mode tokens (a phrase if > 1) */
  int prefix, column;
} term;

typedef struct range {
  size_t start, end;
  int term;          /* index into terms, or -1 (regex/link filter) */
} range;

typedef struct rangev {
  range *v;
  size_t n, cap;
} rangev;

typedef struct sec {
  size_t off, len;
  long line;
  char *heading;
} sec;

typedef struct lnk {
  size_t off;
  char *url, *text;
} lnk;

typedef struct noterow {
  long long id;
  char *path, *title, *date;
  double score;
  double field[4];   /* per-field bm25, for --explain */
  int tier;
} noterow;

typedef struct hitrec {
  cns_hit h;
  char *path, *title, *heading, *snippet, *date, *explain;
  char *via_url, *via_title, *via_text;
  size_t *marks;
} hitrec;

struct cns_search {
  cns *h;
  qp_plan *plan;
  cns_search_opts opts;
  term *terms;
  size_t nterms;
  tok_filter want;   /* the terms' tokens, for tok_sieve() */
  rx **filter_rx;    /* per plan filter; NULL for non-regex ones */
  char **trigram;    /* per plan filter: note_tri expression for /re/, or NULL */
  char *lazy;        /* per plan filter: a /re/ over the text checked in C
                        when run_tier() takes a note, not in SQL (below) */
  char **idset;      /* per plan filter: "(1,2,3)" for links-to:/linked-from: */
  tok_ctx *tok;
  sqlite3_stmt *body_st, *sec_st, *link_st;
  sqlite3_stmt *row_st; /* a note's path, title, date (see ranked_sql) */
  hitrec *hits;
  size_t nhits, cap, next;
  size_t notes_seen;
  char *weights;     /* tier 1's cns_rank() arguments after the field
                        weights (", ntyped, w0, w1, ..."), or NULL: bm25() */
  char *fb_words;    /* the words feedback added, for --explain, or NULL */
};

/* ---- hits ----------------------------------------------------------- */

static void hit_free(hitrec *r) {
  free(r->path);
  free(r->title);
  free(r->heading);
  free(r->snippet);
  free(r->date);
  free(r->explain);
  free(r->via_url);
  free(r->via_title);
  free(r->via_text);
  free(r->marks);
}

static hitrec *hit_push(cns_search *s) {
  if (s->nhits == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 32;
    s->hits = cns_xrealloc(s->hits, s->cap * sizeof *s->hits);
  }
  hitrec *r = &s->hits[s->nhits++];
  memset(r, 0, sizeof *r);
  return r;
}

/* Point the public cns_hit at the record's own strings. */
static void hit_seal(hitrec *r) {
  r->h.path = r->path;
  r->h.title = r->title;
  r->h.heading = r->heading ? r->heading : "";
  r->h.snippet = r->snippet ? r->snippet : "";
  r->h.marks = r->marks;
  r->h.date = r->date;
  r->h.explain = r->explain;
  r->h.via_url = r->via_url;
  r->h.via_title = r->via_title;
  r->h.via_text = r->via_text;
}

void cns_search_free(cns_search *s) {
  if (!s) return;
  for (size_t i = 0; i < s->nhits; i++) hit_free(&s->hits[i]);
  free(s->hits);
  for (size_t i = 0; i < s->nterms; i++) tok_list_free(&s->terms[i].toks);
  free(s->terms);
  if (s->plan && s->filter_rx)
    for (size_t i = 0; i < s->plan->nfilters; i++) {
      rx_free(s->filter_rx[i]);
      free(s->trigram[i]);
    }
  free(s->lazy);
  if (s->plan && s->idset)
    for (size_t i = 0; i < s->plan->nfilters; i++) free(s->idset[i]);
  free(s->idset);
  free(s->filter_rx);
  free(s->trigram);
  free(s->weights);
  free(s->fb_words);
  sqlite3_finalize(s->body_st);
  sqlite3_finalize(s->row_st);
  sqlite3_finalize(s->sec_st);
  sqlite3_finalize(s->link_st);
  tok_close(s->tok);
  qp_plan_free(s->plan);
  free(s);
}

int cns_search_next(cns_search *s, const cns_hit **hit) {
  if (s->next >= s->nhits) return CNS_DONE;
  hitrec *r = &s->hits[s->next++];
  hit_seal(r);
  *hit = &r->h;
  return CNS_OK;
}

/* ---- preparing ------------------------------------------------------ */

static int is_regex_filter(int f) {
  return f == QP_F_PATH || f == QP_F_HEADING || f == QP_F_URL ||
         f == QP_F_TITLE || f == QP_F_TEXT;
}

static int compile_filters(cns_search *s) {
  qp_plan *p = s->plan;
  s->filter_rx = cns_xcalloc(p->nfilters + 1, sizeof *s->filter_rx);
  s->trigram = cns_xcalloc(p->nfilters + 1, sizeof *s->trigram);
  s->lazy = cns_xcalloc(p->nfilters + 1, 1);
  for (size_t i = 0; i < p->nfilters; i++) {
    if (!is_regex_filter(p->filters[i].field)) continue;
    if (p->filters[i].field == QP_F_TEXT && !p->filters[i].negated) {
      s->trigram[i] = rx_trigram_query(p->filters[i].arg,
                                       p->filters[i].caseless);
      s->lazy[i] = 1;
    }
    buf err = BUF_INIT;
    int rc = rx_compile(p->filters[i].arg, p->filters[i].caseless,
                        &s->filter_rx[i], &err);
    if (rc) {
      cns_seterr(s->h, rc, "%s", buf_str(&err));
      buf_free(&err);
      return rc;
    }
  }
  return CNS_OK;
}

/* links-to:NOTE and linked-from:NOTE become a list of note ids. */
static int resolve_links(cns_search *s) {
  qp_plan *p = s->plan;
  s->idset = cns_xcalloc(p->nfilters + 1, sizeof *s->idset);
  for (size_t i = 0; i < p->nfilters; i++) {
    int f = p->filters[i].field;
    if (f != QP_F_LINKS_TO && f != QP_F_LINKED_FROM) continue;
    long long id;
    char *path = NULL;
    links_ids ids = {0};
    buf err = BUF_INIT, set = BUF_INIT;
    int rc = links_find_note(s->h->db, s->h->root, s->opts.cwd,
                             p->filters[i].arg, &id, &path, &err);
    if (!rc)
      rc = f == QP_F_LINKS_TO ? links_sources(s->h->db, id, &ids, &err)
                              : links_dests(s->h->db, id, &ids, &err);
    buf_addc(&set, '(');
    for (size_t k = 0; k < ids.n; k++) buf_addf(&set, "%s%lld", k ? "," : "", ids.v[k]);
    buf_addc(&set, ')');
    s->idset[i] = buf_detach(&set);
    if (rc) cns_seterr(s->h, rc, "%s", buf_str(&err));
    links_ids_free(&ids);
    free(path);
    buf_free(&err);
    if (rc) return rc;
  }
  return CNS_OK;
}

static int tokenize_terms(cns_search *s) {
  qp_plan *p = s->plan;
  s->terms = cns_xcalloc(p->nterms + 1, sizeof *s->terms);
  for (size_t i = 0; i < p->nterms; i++) {
    term *t = &s->terms[s->nterms];
    if (tok_run(s->tok, p->terms[i].text, strlen(p->terms[i].text), 1,
                &t->toks) != SQLITE_OK)
      return cns_dberr(s->h, "tokenize the query");
    if (t->toks.n == 0) {
      tok_list_free(&t->toks);
      continue;
    }
    t->prefix = p->terms[i].prefix;
    t->column = p->terms[i].column;
    tok_want(&s->want, &t->toks);
    s->nterms++;
  }
  return CNS_OK;
}

static int prepare(cns_search *s, sqlite3_stmt **st, const char *sql) {
  if (sqlite3_prepare_v2(s->h->db, sql, -1, st, NULL) != SQLITE_OK)
    return cns_dberr(s->h, "prepare a search");
  return CNS_OK;
}

/* ---- the note query ------------------------------------------------- */

static void add_filter_sql(buf *sql, const qp_filter *f, int param,
                           const char *ids) {
  const char *fn = f->caseless ? "regexpi" : "regexp";
  buf_adds(sql, f->negated ? " AND NOT " : " AND ");
  switch (f->field) {
  case QP_F_PATH: buf_addf(sql, "%s(?%d, n.path)", fn, param); break;
  case QP_F_TITLE: buf_addf(sql, "%s(?%d, n.title)", fn, param); break;
  case QP_F_TEXT:
    buf_addf(sql, "%s(?%d, (SELECT unpack(z, len) FROM body WHERE note = "
                  "n.id))", fn, param);
    break;
  case QP_F_HEADING:
    buf_addf(sql, "EXISTS(SELECT 1 FROM section s WHERE s.note = n.id AND "
                  "%s(?%d, s.heading))", fn, param);
    break;
  case QP_F_URL:
    buf_addf(sql, "EXISTS(SELECT 1 FROM link k WHERE k.note = n.id AND "
                  "%s(?%d, coalesce(k.url, k.target)))", fn, param);
    break;
  case QP_F_TAG:
    buf_addf(sql, "coalesce(instr(' ' || n.tags || ' ', ' ' || ?%d || ' '), "
                  "0) > 0", param);
    break;
  case QP_F_AFTER: buf_addf(sql, "coalesce(n.date >= ?%d, 0)", param); break;
  case QP_F_BEFORE: buf_addf(sql, "coalesce(n.date < ?%d, 0)", param); break;
  case QP_F_LINKS_TO:
  case QP_F_LINKED_FROM: buf_addf(sql, "n.id IN %s", ids); break;
  }
}

/* The trigram prefilter of filter i, on the note id `id`. */
static void trigram_sql(const cns_search *s, buf *sql, size_t i,
                        const char *id) {
  buf_addf(sql, " AND %s IN (SELECT rowid FROM note_tri WHERE note_tri "
                "MATCH ?%d)", id, (int)(i + 2 + s->plan->nfilters));
}

/* Every filter as an SQL condition on note n (parameters ?2...), with
** the trigram prefilter in front of each regex over the text.  With
** lazy, a regex over the text is left to run_tier(), which checks it on
** the notes it takes (lazy_match()): regexp() in SQL would run on every
** candidate before the first row comes back, and a search shows twenty. */
static void add_filters_sql(const cns_search *s, buf *sql, int lazy) {
  for (size_t i = 0; i < s->plan->nfilters; i++) {
    if (s->trigram[i]) trigram_sql(s, sql, i, "n.id");
    if (!(lazy && s->lazy[i]))
      add_filter_sql(sql, &s->plan->filters[i], (int)i + 2, s->idset[i]);
  }
}

/* Are all filters regexes over the text that run_tier() checks? */
static int only_lazy(const cns_search *s, int lazy) {
  for (size_t i = 0; i < s->plan->nfilters; i++)
    if (!(lazy && s->lazy[i])) return 0;
  return 1;
}

/* The score columns of a tier: the ranking function with the field
** weights, and with --explain each field alone. */
static void score_sql(const cns_search *s, buf *sql, int explain,
                      const char *weights) {
  const char *fn = weights ? "cns_rank" : "bm25", *w = weights ? weights : "";
  buf_addf(sql, "%s(note_fts, %g, %g, %g, %g%s)", fn, W(s, 0), W(s, 1),
           W(s, 2), W(s, 3), w);
  if (explain)
    for (int i = 0; i < 4; i++)
      buf_addf(sql, ", %s(note_fts, %d, %d, %d, %d%s)", fn, i == 0, i == 1,
               i == 2, i == 3, w);
}

/* Ranked SQL: best first, ties by note id; at most `rows` rows, or all
** when rows is 0 (see tier_rows()). */
static void rank_order_sql(buf *sql, size_t rows) {
  buf_adds(sql, " ORDER BY 5, 1");
  if (rows) buf_addf(sql, " LIMIT %zu", rows);
}

/* Without filters, notes are ranked by FTS5 alone and path, title and
** date come back NULL: run_tier() reads a note's row (row_st) only when
** it takes the note, and most matching notes of a common word never are.
** Joining in SQL instead reads every row, or, to avoid that, relies on
** the order of a subquery, which SQLite does not promise. */
static char *ranked_sql(const cns_search *s, int explain,
                        const char *weights, size_t rows) {
  buf sql = BUF_INIT;
  buf_adds(&sql, "SELECT rowid, NULL, NULL, NULL, ");
  score_sql(s, &sql, explain, weights);
  buf_adds(&sql, " FROM note_fts WHERE note_fts MATCH ?1");
  for (size_t i = 0; i < s->plan->nfilters; i++)
    /* '+': else SQLite hands FTS5 each candidate as a rowid lookup, one
    ** MATCH apiece (50x slower than checking a list) */
    if (s->trigram[i]) trigram_sql(s, &sql, i, "+note_fts.rowid");
  rank_order_sql(&sql, rows);
  return buf_detach(&sql);
}

/* SQL for one tier: ?1 is the FTS expression (absent for filter-only
** queries); filters are ?2...  Notes are ranked by bm25(), or by
** cns_rank() with per-phrase weights when `weights` is set. */
static char *note_sql(const cns_search *s, int with_match, int explain,
                      const char *weights, int lazy, size_t rows) {
  buf sql = BUF_INIT;
  if (with_match && only_lazy(s, lazy))
    return ranked_sql(s, explain, weights, rows);
  buf_adds(&sql, "SELECT n.id, n.path, n.title, n.date");
  if (with_match) {
    buf_adds(&sql, ", ");
    score_sql(s, &sql, explain, weights);
    buf_adds(&sql, " FROM note_fts JOIN note n ON n.id = note_fts.rowid "
                   "WHERE note_fts MATCH ?1");
  } else {
    buf_adds(&sql, ", 0 FROM note n WHERE 1");
    if (s->plan->exclude)
      buf_adds(&sql, " AND n.id NOT IN (SELECT rowid FROM note_fts WHERE "
                     "note_fts MATCH ?1)");
  }
  add_filters_sql(s, &sql, lazy);
  if (with_match) rank_order_sql(&sql, rows);
  else buf_adds(&sql, " ORDER BY n.path");
  return buf_detach(&sql);
}

static void bind_filters(const cns_search *s, sqlite3_stmt *st, int lazy) {
  size_t nf = s->plan->nfilters;
  for (size_t i = 0; i < nf; i++) {
    if (!(lazy && s->lazy[i])) /* else ?i+2 is not in the SQL */
      sqlite3_bind_text(st, (int)i + 2, s->plan->filters[i].arg, -1,
                        SQLITE_STATIC);
    if (s->trigram[i])
      sqlite3_bind_text(st, (int)(i + 2 + nf), s->trigram[i], -1,
                        SQLITE_STATIC);
  }
}

/* A failing note query: our own regexp() messages are shown as they are;
** anything else is an internal error, never raw SQL text. */
static int query_error(cns_search *s) {
  const char *m = sqlite3_errmsg(s->h->db);
  int code = sqlite3_errcode(s->h->db);
  if (strncmp(m, "regex", 5) == 0 || strncmp(m, "bad regex", 9) == 0)
    return cns_seterr(s->h, CNS_ELIMIT, "%s", m);
  if (code == SQLITE_INTERRUPT)
    return cns_seterr(s->h, CNS_EINTR, "interrupted");
  if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB ||
      code == SQLITE_BUSY || code == SQLITE_IOERR)
    return cns_dberr(s->h, "search");
  return cns_seterr(s->h, CNS_EQUERY,
                    "cannot run this query (the index rejected it); try "
                    "quoting unusual words");
}

/* ---- ranges: where the terms are in one note ------------------------ */

static void range_add(rangev *rv, size_t s, size_t e, int t) {
  if (rv->n == rv->cap) {
    rv->cap = rv->cap ? rv->cap * 2 : 64;
    rv->v = cns_xrealloc(rv->v, rv->cap * sizeof *rv->v);
  }
  rv->v[rv->n++] = (range){s, e, t};
}

static int tok_eq(const tok_list *doc, size_t i, const tok_list *q, size_t k,
                  int prefix) {
  const tok_token *d = &doc->v[i], *w = &q->v[k];
  if (prefix) return d->text_len >= w->text_len &&
                     memcmp(tok_text(doc, i), tok_text(q, k), w->text_len) == 0;
  return d->text_len == w->text_len &&
         memcmp(tok_text(doc, i), tok_text(q, k), w->text_len) == 0;
}

/* Does the phrase t start at doc token i?  *last gets its last token. */
static int phrase_at(const tok_list *doc, size_t i, const term *t,
                     size_t *last) {
  size_t at = i;
  for (size_t k = 0; k < t->toks.n; k++) {
    int want = doc->v[i].pos + (int)k, found = 0;
    for (size_t j = at; j < doc->n && doc->v[j].pos <= want; j++) {
      if (doc->v[j].pos == want &&
          tok_eq(doc, j, &t->toks, k, t->prefix && k + 1 == t->toks.n)) {
        at = j;
        found = 1;
        break;
      }
    }
    if (!found) return 0;
  }
  *last = at;
  return 1;
}

static void term_ranges(const tok_list *doc, const term *t, int ti,
                        rangev *rv) {
  for (size_t i = 0; i < doc->n; i++) {
    size_t last;
    if (!tok_eq(doc, i, &t->toks, 0, t->prefix && t->toks.n == 1)) continue;
    if (t->toks.n == 1) range_add(rv, doc->v[i].start, doc->v[i].end, ti);
    else if (phrase_at(doc, i, t, &last))
      range_add(rv, doc->v[i].start, doc->v[last].end, ti);
  }
}

/* Where the query's words are in text (a note's or a page's), added to
** rv; an SQLite code. */
static int word_ranges(cns_search *s, const char *text, size_t len,
                       rangev *rv) {
  tok_list doc = {0};
  int rc = tok_sieve(s->tok, text, len, &s->want, &doc);
  if (rc == SQLITE_OK)
    for (size_t i = 0; i < s->nterms; i++)
      term_ranges(&doc, &s->terms[i], (int)i, rv);
  tok_list_free(&doc);
  return rc;
}

/* Every match of r in body as a range (the first 100,000).  A regex that
** gives up (its match limit) is an error, with regexp()'s message. */
static int regex_ranges(cns_search *s, rx *r, const char *body, size_t len,
                        rangev *rv) {
  size_t at = 0, ms, me, found = 0;
  buf err = BUF_INIT;
  int rc = 0;
  while (at <= len && (rc = rx_find(r, body, len, at, &ms, &me, &err)) == 1) {
    range_add(rv, ms, me > ms ? me : ms + (ms < len), -1);
    at = me > at ? me : at + 1;
    if (++found > 100000) break;
  }
  if (rc != 0 && rc != 1) rc = cns_seterr(s->h, CNS_ELIMIT, "%s", buf_str(&err));
  else rc = CNS_OK;
  buf_free(&err);
  return rc;
}

static int by_start(const void *a, const void *b) {
  const range *x = a, *y = b;
  return x->start < y->start ? -1 : x->start > y->start;
}

/* ---- loading one note ----------------------------------------------- */

typedef struct note_text {
  const char *body;
  size_t len;
  sec *secs;
  size_t nsecs;
  lnk *links;
  size_t nlinks;
} note_text;

static void note_text_free(note_text *t) {
  for (size_t i = 0; i < t->nsecs; i++) free(t->secs[i].heading);
  for (size_t i = 0; i < t->nlinks; i++) {
    free(t->links[i].url);
    free(t->links[i].text);
  }
  free(t->secs);
  free(t->links);
}

static int load_sections(cns_search *s, long long id, note_text *t) {
  sqlite3_stmt *st = s->sec_st;
  size_t cap = 0;
  int rc;
  sqlite3_bind_int64(st, 1, id);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (t->nsecs == cap) {
      cap = cap ? cap * 2 : 16;
      t->secs = cns_xrealloc(t->secs, cap * sizeof *t->secs);
    }
    sec *x = &t->secs[t->nsecs++];
    x->off = (size_t)sqlite3_column_int64(st, 0);
    x->len = (size_t)sqlite3_column_int64(st, 1);
    x->line = (long)sqlite3_column_int64(st, 2);
    x->heading = cns_xstrdup((const char *)sqlite3_column_text(st, 3));
  }
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? CNS_OK : cns_dberr(s->h, "read sections");
}

static int load_links(cns_search *s, long long id, note_text *t) {
  sqlite3_stmt *st = s->link_st;
  size_t cap = 0;
  int rc;
  sqlite3_bind_int64(st, 1, id);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (t->nlinks == cap) {
      cap = cap ? cap * 2 : 16;
      t->links = cns_xrealloc(t->links, cap * sizeof *t->links);
    }
    lnk *k = &t->links[t->nlinks++];
    k->off = (size_t)sqlite3_column_int64(st, 0);
    k->url = cns_xstrdup((const char *)sqlite3_column_text(st, 1));
    k->text = cns_xstrdup((const char *)sqlite3_column_text(st, 2));
  }
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? CNS_OK : cns_dberr(s->h, "read links");
}

static int wants_links(const cns_search *s) {
  for (size_t i = 0; i < s->nterms; i++)
    if (s->terms[i].column == 2) return 1;
  for (size_t i = 0; i < s->plan->nfilters; i++)
    if (s->plan->filters[i].field == QP_F_URL) return 1;
  return 0;
}

/* ---- sections and their scores -------------------------------------- */

static size_t sec_of(const note_text *t, size_t off) {
  size_t lo = 0, hi = t->nsecs;
  while (hi - lo > 1) {
    size_t mid = (lo + hi) / 2;
    if (t->secs[mid].off <= off) lo = mid;
    else hi = mid;
  }
  return lo;
}

/* End of a link's source: just past its URL when the URL is written
** after off, else the end of its line. */
static size_t link_end(const note_text *t, const lnk *k) {
  const char *b = t->body + k->off, *end = t->body + t->len;
  const char *u = k->url[0] ? memmem(b, (size_t)(end - b), k->url,
                                     strlen(k->url)) : NULL;
  if (u && u - b < 4096) return (size_t)(u - t->body) + strlen(k->url) + 1;
  const char *nl = memchr(b, '\n', (size_t)(end - b));
  return nl ? (size_t)(nl - t->body) : t->len;
}

static int in_heading_line(const note_text *t, size_t off) {
  const sec *x = &t->secs[sec_of(t, off)];
  if (!x->heading[0] || x->off > off) return 0;
  const char *nl = memchr(t->body + x->off, '\n', x->len);
  return !nl || off < (size_t)(nl - t->body);
}

static int in_link(const note_text *t, size_t off) {
  for (size_t i = 0; i < t->nlinks; i++)
    if (t->links[i].off <= off && off < link_end(t, &t->links[i])) return 1;
  return 0;
}

/* Keep only the ranges that lie in the column their term asked for. */
static void column_filter(const cns_search *s, const note_text *t,
                          rangev *rv) {
  size_t w = 0;
  for (size_t i = 0; i < rv->n; i++) {
    range *r = &rv->v[i];
    int col = r->term >= 0 ? s->terms[r->term].column : -1;
    if ((col == 1 && !in_heading_line(t, r->start)) ||
        (col == 2 && !in_link(t, r->start)))
      continue;
    rv->v[w++] = *r;
  }
  rv->n = w;
}

static int url_ranges(cns_search *s, const note_text *t, rx *r, rangev *rv) {
  buf err = BUF_INIT;
  for (size_t i = 0; i < t->nlinks; i++) {
    size_t ms, me;
    const char *url = t->links[i].url;
    int m = rx_find_copy(r, url, strlen(url), 0, &ms, &me, &err);
    if (m > 1) {
      int rc = cns_seterr(s->h, m, "%s", buf_str(&err));
      buf_free(&err);
      return rc;
    }
    if (m == 1) range_add(rv, t->links[i].off, link_end(t, &t->links[i]), -1);
  }
  buf_free(&err);
  return CNS_OK;
}

/* The matches of each regex over the text.  *ok is cleared when one that
** SQL left to us (s->lazy) has none: the note is no answer at all, and
** the caller stops before reading anything more of it. */
static int text_ranges(cns_search *s, const note_text *t, rangev *rv,
                       int *ok) {
  *ok = 1;
  for (size_t i = 0; i < s->plan->nfilters && *ok; i++) {
    const qp_filter *f = &s->plan->filters[i];
    if (f->negated || f->field != QP_F_TEXT) continue;
    size_t before = rv->n;
    int rc = regex_ranges(s, s->filter_rx[i], t->body, t->len, rv);
    if (rc) return rc;
    if (s->lazy[i] && rv->n == before) *ok = 0;
  }
  return CNS_OK;
}

/* Every place in the note that answers the query (rv holds the
** text_ranges() already), sorted by offset. */
static int note_ranges(cns_search *s, const note_text *t, rangev *rv) {
  if (s->nterms) {
    if (word_ranges(s, t->body, t->len, rv) != SQLITE_OK)
      return cns_dberr(s->h, "tokenize a note");
    column_filter(s, t, rv);
  }
  for (size_t i = 0; i < s->plan->nfilters; i++) {
    const qp_filter *f = &s->plan->filters[i];
    if (f->negated) continue;
    if (f->field == QP_F_URL) { /* the text's regexes: text_ranges() */
      int rc = url_ranges(s, t, s->filter_rx[i], rv);
      if (rc) return rc;
    }
  }
  if (rv->n > 1) qsort(rv->v, rv->n, sizeof *rv->v, by_start);
  return CNS_OK;
}

/* Sections a heading: filter allows. */
static int section_allowed(cns_search *s, const sec *x) {
  buf err = BUF_INIT;
  int ok = 1;
  for (size_t i = 0; i < s->plan->nfilters && ok; i++) {
    const qp_filter *f = &s->plan->filters[i];
    if (f->field != QP_F_HEADING || f->negated) continue;
    size_t ms, me;
    ok = rx_find_copy(s->filter_rx[i], x->heading, strlen(x->heading), 0,
                      &ms, &me, &err) == 1;
  }
  buf_free(&err);
  return ok;
}

typedef struct secscore {
  size_t sec, first, count; /* ranges [first, first+count) */
  size_t at;                /* where the best cluster starts (a range index) */
  double local;             /* how well the section answers */
} secscore;

static int term_bit(const range *r) { return r->term < 0 ? 63 : r->term % 63; }

static int popcount64(uint64_t x) {
  int n = 0;
  for (; x; x &= x - 1) n++;
  return n;
}

/* The shortest run of ranges [*at, ...) holding every distinct term the
** section holds: its span in bytes.  Ranges are sorted by start. */
static size_t best_window(const rangev *rv, size_t first, size_t count,
                          uint64_t all, size_t *at) {
  size_t best = (size_t)-1;
  *at = first;
  for (size_t i = first; i < first + count; i++) {
    uint64_t seen = 0;
    for (size_t j = i; j < first + count; j++) {
      seen |= 1ULL << term_bit(&rv->v[j]);
      if (seen != all) continue;
      size_t span = rv->v[j].end - rv->v[i].start;
      if (span < best) {
        best = span;
        *at = i;
      }
      break;
    }
    if (i - first > 256) break; /* long sections: the first clusters do */
  }
  return best == (size_t)-1 ? 0 : best;
}

/* How well a section answers: distinct terms first, then terms in its
** heading, then how tightly they cluster, then how often they occur. */
static double local_score(const note_text *t, const rangev *rv,
                          secscore *sc) {
  uint64_t all = 0, in_head = 0;
  for (size_t i = sc->first; i < sc->first + sc->count; i++) {
    all |= 1ULL << term_bit(&rv->v[i]);
    if (in_heading_line(t, rv->v[i].start))
      in_head |= 1ULL << term_bit(&rv->v[i]);
  }
  int distinct = popcount64(all);
  size_t span = best_window(rv, sc->first, sc->count, all, &sc->at);
  double prox = distinct > 1 ? 5.0 / (1.0 + (double)span / 40.0) : 0;
  double freq = sc->count < 10 ? (double)sc->count : 10.0;
  return distinct * 10.0 + popcount64(in_head) * 3.0 + prox + freq * 0.2;
}

static int by_local(const void *a, const void *b) {
  const secscore *x = a, *y = b;
  if (x->local != y->local) return x->local > y->local ? -1 : 1;
  return x->sec < y->sec ? -1 : x->sec > y->sec;
}

/* Group sorted ranges by section and score each group. */
static size_t score_sections(cns_search *s, const note_text *t,
                             const rangev *rv, secscore **out) {
  secscore *v = cns_xmalloc((rv->n + 1) * sizeof *v);
  size_t n = 0;
  for (size_t i = 0; i < rv->n;) {
    size_t k = sec_of(t, rv->v[i].start), j = i;
    while (j < rv->n && sec_of(t, rv->v[j].start) == k) j++;
    if (section_allowed(s, &t->secs[k])) {
      v[n] = (secscore){k, i, j - i, i, 0};
      v[n].local = local_score(t, rv, &v[n]);
      n++;
    }
    i = j;
  }
  qsort(v, n, sizeof *v, by_local);
  *out = v;
  return n;
}

/* ---- building hits -------------------------------------------------- */

static void fill_place(cns_search *s, hitrec *r, const note_text *t,
                       const range *rg, size_t nr) {
  long line, col, eline, ecol;
  size_t from = 0;
  long from_line = 1;
  if (t->nsecs) {
    const sec *x = &t->secs[sec_of(t, rg[0].start)];
    from = x->off;
    from_line = x->line;
  }
  snip_linecol(t->body, t->len, from, from_line, rg[0].start, &line, &col);
  snip_linecol(t->body, t->len, from, from_line, rg[0].end, &eline, &ecol);
  r->h.line = line;
  r->h.column = col;
  r->h.end_column = eline == line ? ecol : col;
  buf sn = BUF_INIT;
  snip_range *sr = cns_xmalloc((nr + 1) * sizeof *sr);
  for (size_t i = 0; i < nr; i++) sr[i] = (snip_range){rg[i].start, rg[i].end};
  int width = s->opts.snippet_width > 0 ? s->opts.snippet_width
                                        : s->h->cfg.snippet;
  snip_make(t->body, t->len, sr, nr, width, &sn, &r->marks, &r->h.nmarks);
  free(sr);
  r->snippet = buf_detach(&sn);
}

static void explain_hit(const cns_search *s, hitrec *r, const noterow *n,
                        double local, size_t k) {
  r->explain = cns_xasprintf(
      "tier %d; note bm25 %.3f with field weights title %g, heading %g, "
      "link %g, body %g (each field alone: %.3f, %.3f, %.3f, %.3f); hit score "
      "%.3f = note x cluster share / (1 + rank in note / 2); section %zu of "
      "the note, cluster %.2f",
      n->tier, n->score, W(s, 0), W(s, 1), W(s, 2), W(s, 3), n->field[0],
      n->field[1], n->field[2], n->field[3], r->h.score, k + 1, local);
  if (n->tier > 0 && s->fb_words) {
    char *e = cns_xasprintf("%s; ranked with feedback words: %s", r->explain,
                            s->fb_words);
    free(r->explain);
    r->explain = e;
  }
}

static hitrec *new_hit(cns_search *s, const noterow *n, double score) {
  hitrec *r = hit_push(s);
  r->path = cns_xstrdup(n->path);
  r->title = cns_xstrdup(n->title);
  r->date = n->date ? cns_xstrdup(n->date) : NULL;
  r->h.score = score;
  r->h.tier = n->tier;
  r->h.line = r->h.column = r->h.end_column = 1;
  return r;
}

/* A note that matched but shows no place (e.g. only its file name did):
** one hit at its start. */
static void whole_note_hit(cns_search *s, const noterow *n,
                           const note_text *t) {
  hitrec *r = new_hit(s, n, n->score);
  size_t k = t->nsecs > 1 && t->secs[0].len == 0 ? 1 : 0;
  range rg = {t->nsecs ? t->secs[k].off : 0, t->nsecs ? t->secs[k].off : 0, -1};
  if (t->nsecs) r->heading = cns_xstrdup(t->secs[k].heading);
  fill_place(s, r, t, &rg, 1);
  if (s->opts.explain) explain_hit(s, r, n, 0, 0);
}

static void section_hits(cns_search *s, const noterow *n, const note_text *t,
                         const rangev *rv) {
  secscore *v;
  size_t nv = score_sections(s, t, rv, &v);
  double best = nv ? v[0].local : 1;
  for (size_t k = 0; k < nv; k++) {
    double cover = 0.6 + 0.4 * v[k].local / best;
    hitrec *r = new_hit(s, n, n->score * cover / (1.0 + 0.5 * (double)k));
    r->heading = cns_xstrdup(t->secs[v[k].sec].heading);
    /* the place is where the terms cluster best; marks from there on */
    fill_place(s, r, t, &rv->v[v[k].at], v[k].first + v[k].count - v[k].at);
    if (s->opts.explain) explain_hit(s, r, n, v[k].local, k);
  }
  if (nv == 0) whole_note_hit(s, n, t);
  free(v);
}

/* Does body match every regex over the text SQL left to us (s->lazy)?
** For -l, which needs no places: the first match of each is enough. */
static int lazy_body_match(cns_search *s, const char *body, size_t len,
                           int *ok) {
  buf err = BUF_INIT;
  size_t ms, me;
  int rc = CNS_OK;
  *ok = 1;
  for (size_t i = 0; i < s->plan->nfilters && *ok && !rc; i++) {
    if (!s->lazy[i]) continue;
    int m = rx_find(s->filter_rx[i], body, len, 0, &ms, &me, &err);
    if (m == 0) *ok = 0;
    else if (m != 1) rc = cns_seterr(s->h, CNS_ELIMIT, "%s", buf_str(&err));
  }
  buf_free(&err);
  return rc;
}

/* The same for note id, read here (-l shows no place, reads no text). */
static int lazy_match(cns_search *s, long long id, int *ok) {
  *ok = 1;
  if (!memchr(s->lazy, 1, s->plan->nfilters)) return CNS_OK;
  sqlite3_bind_int64(s->body_st, 1, id);
  int rc = sqlite3_step(s->body_st);
  if (rc != SQLITE_ROW) {
    sqlite3_reset(s->body_st);
    return cns_dberr(s->h, "read a note");
  }
  const char *body = (const char *)sqlite3_column_blob(s->body_st, 0);
  size_t len = (size_t)sqlite3_column_bytes(s->body_st, 0);
  rc = lazy_body_match(s, body ? body : "", len, ok);
  sqlite3_reset(s->body_st);
  return rc;
}

/* The hits of note n; *ok is cleared, and there are none, when a regex
** over the text that SQL left to us (s->lazy) does not match. */
static int note_hits(cns_search *s, const noterow *n, int *ok) {
  note_text t = {0};
  sqlite3_bind_int64(s->body_st, 1, n->id);
  int rc = sqlite3_step(s->body_st);
  if (rc != SQLITE_ROW) {
    sqlite3_reset(s->body_st);
    return cns_dberr(s->h, "read a note");
  }
  t.body = (const char *)sqlite3_column_blob(s->body_st, 0);
  t.len = (size_t)sqlite3_column_bytes(s->body_st, 0);
  if (!t.body) t.body = "";
  rangev rv = {0};
  rc = text_ranges(s, &t, &rv, ok); /* before any other work */
  if (!rc && *ok) rc = load_sections(s, n->id, &t);
  if (!rc && *ok && wants_links(s)) rc = load_links(s, n->id, &t);
  if (!rc && *ok) rc = note_ranges(s, &t, &rv);
  if (!rc && *ok) section_hits(s, n, &t, &rv);
  free(rv.v);
  note_text_free(&t);
  sqlite3_reset(s->body_st);
  return rc;
}

static void file_hit(cns_search *s, const noterow *n) {
  hitrec *r = new_hit(s, n, n->score);
  r->heading = cns_xstrdup("");
}

/* ---- pseudo-relevance feedback (ranking itself: rank.c) ------------ */

/* Pseudo-relevance feedback for natural-language queries.  When a query
** of FB_MIN_TERMS or more words (stopwords aside) falls back to the OR of
** its words, that ranking is refined: the FB_DOCS best notes are read,
** their words weighed (tf / note length, weighted by the note's share of
** their total score, summed, times idf), and the FB_TERMS heaviest words
** that occur in two of those notes or more join the query.  The notes are
** ranked again with the typed words weighing 1 - FB_WEIGHT in all and the
** new ones FB_WEIGHT; only notes holding a typed word are listed, so the
** new words reorder the fallback and never widen it.  Feedback assumes the
** best notes are a small sample of one topic, which a collection of a few
** hundred notes does not give (there it pulls in the vocabulary of index
** notes): below FB_MIN_NOTES it is off.  Values tuned on Cranfield with
** bench/eval (bench/EVAL.md): +15% nDCG@10, +19% MAP@100 over plain BM25,
** and flat around them (FB_DOCS 3-5, FB_TERMS 10-15, FB_WEIGHT 0.3-0.4
** all give nDCG@10 0.40-0.41). */
#define FB_MIN_TERMS  3
#define FB_DOCS       4
#define FB_TERMS      10
#define FB_WEIGHT     0.4
#define FB_MIN_NOTES  (100 * FB_DOCS)
#define FB_CANDIDATES 50       /* words whose idf is looked up */
#define FB_BYTES      65536    /* of a note's text read for its words */

/* A word of the feedback notes: its indexed form, as written, its
** weight, and which note it is in (after merging: in how many). */
typedef struct fbword {
  char *stem, *word;
  double w;
  int doc, ndocs;
} fbword;

typedef struct fbwords {
  fbword *v;
  size_t n, cap;
} fbwords;

static void fbwords_free(fbwords *v) {
  for (size_t i = 0; i < v->n; i++) {
    free(v->v[i].stem);
    free(v->v[i].word);
  }
  free(v->v);
}

static int by_stem(const void *a, const void *b) {
  const fbword *x = a, *y = b;
  int c = strcmp(x->stem, y->stem);
  return c ? c : x->doc - y->doc;
}

static int by_weight(const void *a, const void *b) {
  const fbword *x = a, *y = b;
  if (x->w != y->w) return x->w > y->w ? -1 : 1;
  return strcmp(x->stem, y->stem);
}

/* Whether a word may be added: not a stopword, 3 bytes or more as
** indexed, and no digit (numbers and codes make the query drift). */
static int fb_usable(const fbword *f) {
  if (strlen(f->stem) < 3 || qp_stopword(f->word, strlen(f->word))) return 0;
  for (const char *p = f->stem; *p; p++)
    if (*p >= '0' && *p <= '9') return 0;
  return 1;
}

/* Add the words of note id (title, headings, body, tokenized as the index
** does) to v, each weighing share / (the note's number of words). */
static int fb_note(cns_search *s, sqlite3_stmt *st, long long id, int doc,
                   double share, fbwords *v) {
  size_t first = v->n;
  int rc = CNS_OK;
  sqlite3_bind_int64(st, 1, id);
  int step = sqlite3_step(st);
  if (step == SQLITE_DONE) { /* removed since it was ranked: no words */
    sqlite3_reset(st);
    return CNS_OK;
  }
  if (step != SQLITE_ROW) rc = cns_dberr(s->h, "read a note");
  for (int c = 0; c < 3 && !rc; c++) {
    const char *text = (const char *)sqlite3_column_text(st, c);
    tok_list toks = {0};
    if (!text) continue;
    size_t len = strlen(text);
    if (len > FB_BYTES) { /* a long note: its start, cut at a space */
      len = FB_BYTES;
      while (len > 0 && text[len - 1] != ' ' && text[len - 1] != '\n') len--;
    }
    if (tok_run(s->tok, text, len, 0, &toks) != SQLITE_OK)
      rc = cns_dberr(s->h, "tokenize a note");
    for (size_t i = 0; !rc && i < toks.n; i++) {
      if (v->n == v->cap) {
        v->cap = v->cap ? 2 * v->cap : 1024;
        v->v = cns_xrealloc(v->v, v->cap * sizeof *v->v);
      }
      const tok_token *t = &toks.v[i];
      v->v[v->n++] = (fbword){cns_xstrndup(tok_text(&toks, i), t->text_len),
                              cns_xstrndup(text + t->start, t->end - t->start),
                              0, doc, 1};
    }
    tok_list_free(&toks);
  }
  sqlite3_reset(st);
  for (size_t i = first; i < v->n; i++)
    v->v[i].w = share / (double)(v->n - first);
  return rc;
}

/* How many notes the index holds. */
static int note_count(cns_search *s, double *n) {
  sqlite3_stmt *st;
  int rc = prepare(s, &st, "SELECT count(*) FROM note");
  if (!rc && sqlite3_step(st) != SQLITE_ROW)
    rc = cns_dberr(s->h, "count notes");
  if (!rc) *n = (double)sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return rc;
}

/* The FB_DOCS best notes of the plain fallback, with their scores. */
static int fb_best(cns_search *s, long long *ids, double *scores, int *n) {
  char *sql = note_sql(s, 1, 0, NULL, 0, FB_DOCS);
  sqlite3_stmt *st;
  int rc = prepare(s, &st, sql), step = SQLITE_DONE;
  free(sql);
  if (rc) return rc;
  sqlite3_bind_text(st, 1, s->plan->match_any, -1, SQLITE_STATIC);
  bind_filters(s, st, 0);
  *n = 0;
  while (*n < FB_DOCS && (step = sqlite3_step(st)) == SQLITE_ROW) {
    ids[*n] = sqlite3_column_int64(st, 0);
    scores[(*n)++] = -sqlite3_column_double(st, 4);
  }
  if (step != SQLITE_ROW && step != SQLITE_DONE) rc = query_error(s);
  sqlite3_finalize(st);
  return rc;
}

/* Merge v's equal stems (summing weights), keep the FB_CANDIDATES
** heaviest usable words found in two feedback notes or more (a word of one
** note only would pull that note up, not the topic), weigh each by its idf
** (from the index's vocabulary) and sort the best first. */
static int fb_rank_words(cns_search *s, fbwords *v, double nrow) {
  sqlite3_stmt *df = NULL;
  size_t k = 0;
  int rc = CNS_OK;
  qsort(v->v, v->n, sizeof *v->v, by_stem);
  for (size_t i = 0; i < v->n; i++) {
    if (k && strcmp(v->v[k - 1].stem, v->v[i].stem) == 0) {
      v->v[k - 1].w += v->v[i].w;
      v->v[k - 1].ndocs += v->v[i].doc != v->v[k - 1].doc;
      v->v[k - 1].doc = v->v[i].doc;
      free(v->v[i].stem);
      free(v->v[i].word);
    } else {
      v->v[k++] = v->v[i];
    }
  }
  v->n = k;
  for (size_t i = 0; i < v->n; i++)
    if (v->v[i].ndocs < 2 || !fb_usable(&v->v[i])) v->v[i].w = 0;
  qsort(v->v, v->n, sizeof *v->v, by_weight);
  if (sqlite3_exec(s->h->db, "CREATE VIRTUAL TABLE IF NOT EXISTS "
                   "temp.cns_vocab USING fts5vocab(main, note_fts, row)",
                   NULL, NULL, NULL) != SQLITE_OK)
    return cns_dberr(s->h, "read the vocabulary");
  rc = prepare(s, &df, "SELECT doc FROM temp.cns_vocab WHERE term = ?");
  for (size_t i = 0; !rc && i < v->n; i++) {
    fbword *f = &v->v[i];
    double ndoc = 0;
    if (i >= FB_CANDIDATES) f->w = 0;
    if (f->w <= 0) continue;
    sqlite3_bind_text(df, 1, f->stem, -1, SQLITE_STATIC);
    int step = sqlite3_step(df);
    if (step == SQLITE_ROW) ndoc = (double)sqlite3_column_int64(df, 0);
    else if (step != SQLITE_DONE) rc = cns_dberr(s->h, "read the vocabulary");
    sqlite3_reset(df);
    double idf = log((nrow - ndoc + 0.5) / (ndoc + 0.5));
    f->w *= idf > 0 ? idf : 0;
  }
  sqlite3_finalize(df);
  if (!rc) qsort(v->v, v->n, sizeof *v->v, by_weight);
  return rc;
}

/* Pseudo-relevance feedback for the fallback tier (see FB_* above).  On
** success *any is the expression to rank tier 1 with and s->weights its
** cns_rank() arguments, or *any is NULL (no feedback: rank by bm25() over
** the plan's match_any).  The caller frees *any with free(). */
static int feedback(cns_search *s, char **any) {
  size_t ntyped = 0, nw = 0;
  long long ids[FB_DOCS];
  double scores[FB_DOCS], z = 0, sumw = 0, nrow = 0;
  int nd = 0, rc;
  *any = NULL;
  free(qp_fallback(s->plan, NULL, 0, &ntyped));
  if (s->opts.sort != CNS_SORT_RANK || ntyped < FB_MIN_TERMS ||
      ntyped + FB_TERMS > 100) /* SQL functions take at most 127 arguments */
    return CNS_OK;
  if ((rc = note_count(s, &nrow)) != CNS_OK || nrow < FB_MIN_NOTES) return rc;
  if ((rc = fb_best(s, ids, scores, &nd)) != CNS_OK || nd == 0) return rc;
  for (int i = 0; i < nd; i++) z += scores[i];
  fbwords v = {0};
  sqlite3_stmt *st = NULL;
  rc = prepare(s, &st,
               "SELECT title, heading, body FROM note_doc WHERE id = ?");
  for (int i = 0; !rc && i < nd; i++)
    rc = fb_note(s, st, ids[i], i, z > 0 ? scores[i] / z : 1.0 / nd, &v);
  sqlite3_finalize(st);
  if (!rc) rc = fb_rank_words(s, &v, nrow);
  const char *words[FB_TERMS];
  for (size_t i = 0; !rc && i < v.n && nw < FB_TERMS && v.v[i].w > 0; i++) {
    words[nw++] = v.v[i].word;
    sumw += v.v[i].w;
  }
  if (!rc && nw) {
    buf w = BUF_INIT, fw = BUF_INIT;
    *any = qp_fallback(s->plan, words, nw, &ntyped);
    buf_addf(&w, ", %zu", ntyped);
    for (size_t i = 0; i < ntyped; i++)
      buf_addf(&w, ", %.6g", (1 - FB_WEIGHT) / (double)ntyped);
    for (size_t i = 0; i < nw; i++) {
      buf_addf(&w, ", %.6g", FB_WEIGHT * v.v[i].w / sumw);
      buf_addf(&fw, "%s%s", i ? " " : "", words[i]);
    }
    s->weights = buf_detach(&w);
    s->fb_words = buf_detach(&fw);
  }
  fbwords_free(&v);
  return rc;
}

/* ---- the note loop -------------------------------------------------- */

static int by_score(const void *a, const void *b) {
  const hitrec *x = a, *y = b;
  if (x->h.tier != y->h.tier) return x->h.tier - y->h.tier;
  if (x->h.score != y->h.score) return x->h.score > y->h.score ? -1 : 1;
  int c = strcmp(x->path, y->path);
  return c ? c : (x->h.line < y->h.line ? -1 : x->h.line > y->h.line);
}

/* Could a note scoring `score` still place a hit among the top limit?
** Hits of earlier tiers (before tier_start) always rank first. */
static int could_place(cns_search *s, size_t tier_start, double score) {
  size_t lim = (size_t)s->opts.limit, have = s->nhits - tier_start;
  if (s->opts.limit <= 0 || s->opts.sort != CNS_SORT_RANK) return 1;
  if (s->opts.files_only) return s->notes_seen < lim;
  if (tier_start >= lim) return 0;
  size_t room = lim - tier_start;
  if (have < room) return 1;
  qsort(s->hits + tier_start, have, sizeof *s->hits, by_score);
  return score > s->hits[tier_start + room - 1].h.score;
}

static void row_to_note(sqlite3_stmt *st, int tier, int explain, noterow *n) {
  n->id = sqlite3_column_int64(st, 0);
  n->path = (char *)sqlite3_column_text(st, 1);
  n->title = (char *)sqlite3_column_text(st, 2);
  n->date = (char *)sqlite3_column_text(st, 3);
  n->score = -sqlite3_column_double(st, 4);
  n->tier = tier;
  for (int i = 0; i < 4; i++)
    n->field[i] = explain ? -sqlite3_column_double(st, 5 + i) : 0;
}

typedef struct seen {
  long long *ids;
  size_t n, cap;
} seen;

static int was_seen(const seen *v, long long id) {
  for (size_t i = 0; i < v->n; i++)
    if (v->ids[i] == id) return 1;
  return 0;
}

static void mark_seen(seen *v, long long id) {
  if (v->n == v->cap) {
    v->cap = v->cap ? v->cap * 2 : 64;
    v->ids = cns_xrealloc(v->ids, v->cap * sizeof *v->ids);
  }
  v->ids[v->n++] = id;
}

/* Fill in a ranked note's path, title and date (ranked_sql); they stay
** valid until row_st is reset. */
static int read_row(cns_search *s, noterow *n) {
  sqlite3_bind_int64(s->row_st, 1, n->id);
  int step = sqlite3_step(s->row_st);
  if (step != SQLITE_ROW) {
    sqlite3_reset(s->row_st);
    return step == SQLITE_DONE
               ? cns_seterr(s->h, CNS_ECORRUPT, "index '%s' is damaged (a "
                            "note without its row); run 'cnsearch index "
                            "--rebuild'", s->h->index_path)
               : cns_dberr(s->h, "read a note");
  }
  n->path = (char *)sqlite3_column_text(s->row_st, 0);
  n->title = (char *)sqlite3_column_text(s->row_st, 1);
  n->date = (char *)sqlite3_column_text(s->row_st, 2);
  if (!n->path || !n->title) return cns_dberr(s->h, "read a note");
  return CNS_OK;
}

/* The most rows a tier can read, or 0 for no bound.  Every note a tier
** takes adds a hit that scores what the note scores (section_hits(),
** whole_note_hit(), file_hit()), and rows come best first, so once the
** tier has taken as many notes as the limit leaves room for, the next row
** cannot place a hit (could_place()) and the tier ends: it reads that
** many rows and one more, plus the notes an earlier tier took, which a
** fallback tier skips.  Told so with a LIMIT, SQLite keeps only the best
** rows as it ranks instead of sorting every matching note: a common word
** at 200 MB (24,000 notes) went from 32 to 23 ms (bench/README.md).
** Without a rank order or a limit every row may be read, and a regex
** checked on the notes taken (lazy) may turn any number of them down. */
static size_t tier_rows(const cns_search *s, int with_match,
                        const seen *done) {
  size_t lim = (size_t)s->opts.limit;
  if (!with_match || s->opts.limit <= 0 || s->opts.sort != CNS_SORT_RANK)
    return 0;
  for (size_t i = 0; i < s->plan->nfilters; i++)
    if (s->lazy[i]) return 0;
  size_t room = s->nhits < lim ? lim - s->nhits : 0;
  return room + 1 + done->n;
}

/* Run one tier; *more is set when it stopped with notes left (they could
** not place a hit), so that a fallback tier could not place any either. */
static int run_tier(cns_search *s, const char *match, int tier, seen *done,
                    int *more) {
  int explain = s->opts.explain && match;
  const char *weights = tier > 0 ? s->weights : NULL;
  char *sql = note_sql(s, match != NULL, explain, weights, 1,
                       tier_rows(s, match != NULL, done));
  sqlite3_stmt *st;
  int rc = prepare(s, &st, sql), step;
  free(sql);
  if (rc) return rc;
  const char *arg = match ? match : s->plan->exclude;
  if (arg) sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
  bind_filters(s, st, 1);
  size_t tier_start = s->nhits;
  while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
    noterow n;
    row_to_note(st, tier, explain, &n);
    if (weights && n.score <= 0) break; /* only feedback words matched */
    if (tier > 0 && was_seen(done, n.id)) continue;
    if (!could_place(s, tier_start, n.score)) break;
    if (!n.path && (rc = read_row(s, &n)) != CNS_OK) break;
    int ok = 1;
    if (s->opts.files_only) {
      if (!(rc = lazy_match(s, n.id, &ok)) && ok) file_hit(s, &n);
    } else {
      rc = note_hits(s, &n, &ok);
    }
    sqlite3_reset(s->row_st);
    if (ok) {
      mark_seen(done, n.id);
      s->notes_seen++;
    }
  }
  if (!rc && step != SQLITE_ROW && step != SQLITE_DONE) rc = query_error(s);
  if (more) *more = step == SQLITE_ROW;
  sqlite3_finalize(st);
  return rc;
}

/* ---- hits through linked pages ------------------------------------- */

/* A page's score counts for this much of a direct hit's: a note that
** only links to the answer ranks below one that holds it. */
#define VIA_FACTOR 0.5
#define VIA_SNIPPET_SCAN (256 * 1024) /* bytes of a page searched for a snippet */

static char *page_sql(const cns_search *s) {
  buf sql = BUF_INIT;
  buf_addf(&sql,
           "SELECT n.id, n.path, n.title, n.date, bm25(page_fts, %g, %g, %g, "
           "%g), k.line, k.col, coalesce(k.text, k.target), p.url, p.title, "
           "p.id, "
           "(SELECT heading FROM section WHERE note = n.id AND ord = k.section) "
           "FROM page_fts JOIN page p ON p.id = page_fts.rowid "
           "JOIN link k ON k.thash = cns_thash(p.url) AND k.target = p.url "
           "AND k.kind = %d "
           "JOIN note n ON n.id = k.note WHERE page_fts MATCH ?1",
           W(s, 0), W(s, 1), W(s, 2), W(s, 3), MD_LINK_INLINE);
  add_filters_sql(s, &sql, 0);
  buf_adds(&sql, " ORDER BY 5, n.path, k.line");
  return buf_detach(&sql);
}

/* The snippet of a via hit: the page's text around the query's words. */
static void page_snippet(cns_search *s, hitrec *r, const char *body,
                         size_t len) {
  rangev rv = {0};
  size_t scan = len < VIA_SNIPPET_SCAN ? len : VIA_SNIPPET_SCAN;
  word_ranges(s, body, scan, &rv); /* on failure: a snippet unmarked */
  if (rv.n > 1) qsort(rv.v, rv.n, sizeof *rv.v, by_start);
  snip_range *sr = cns_xmalloc((rv.n + 1) * sizeof *sr);
  for (size_t i = 0; i < rv.n; i++) sr[i] = (snip_range){rv.v[i].start, rv.v[i].end};
  if (!rv.n) sr[0] = (snip_range){0, 0};
  buf sn = BUF_INIT;
  int width = s->opts.snippet_width > 0 ? s->opts.snippet_width : s->h->cfg.snippet;
  snip_make(body, len, sr, rv.n ? rv.n : 1, width, &sn, &r->marks, &r->h.nmarks);
  r->snippet = buf_detach(&sn);
  free(sr);
  free(rv.v);
}

/* A via hit for the page row st is on; its text is read only now (a
** page may be large, and the ranked query need not sort it along). */
static int via_hit(cns_search *s, sqlite3_stmt *st, sqlite3_stmt *body_st,
                   const noterow *n) {
  sqlite3_bind_int64(body_st, 1, sqlite3_column_int64(st, 10));
  int step = sqlite3_step(body_st);
  if (step != SQLITE_ROW && step != SQLITE_DONE) {
    sqlite3_reset(body_st);
    return cns_dberr(s->h, "read a page");
  }
  hitrec *r = new_hit(s, n, n->score);
  const char *text = (const char *)sqlite3_column_text(st, 7);
  const char *head = (const char *)sqlite3_column_text(st, 11);
  r->h.line = sqlite3_column_int(st, 5);
  r->h.column = sqlite3_column_int(st, 6);
  r->via_text = cns_xstrdup(text ? text : "");
  r->h.end_column = r->h.column + (long)strlen(r->via_text) + 2;
  r->via_url = cns_xstrdup((const char *)sqlite3_column_text(st, 8));
  const char *pt = (const char *)sqlite3_column_text(st, 9);
  r->via_title = pt ? cns_xstrdup(pt) : NULL;
  r->heading = cns_xstrdup(head ? head : "");
  const char *body = step == SQLITE_ROW
                         ? (const char *)sqlite3_column_blob(body_st, 0)
                         : NULL;
  size_t len = body ? (size_t)sqlite3_column_bytes(body_st, 0) : 0;
  page_snippet(s, r, body ? body : "", len);
  sqlite3_reset(body_st);
  if (s->opts.explain)
    r->explain = cns_xasprintf("via a linked page: page bm25 %.3f x %.2f",
                               n->score / VIA_FACTOR, VIA_FACTOR);
  return CNS_OK;
}

/* Does any page have text (a row in page_fts)?  Most indexes hold none
** until `cnsearch fetch` runs, and the join below costs more to prepare
** than this to ask. */
static int any_page_text(cns_search *s, int *any) {
  sqlite3_stmt *st;
  int rc = prepare(s, &st, "SELECT 1 FROM page_fts_docsize LIMIT 1");
  if (rc) return rc;
  int step = sqlite3_step(st);
  *any = step == SQLITE_ROW;
  if (step != SQLITE_ROW && step != SQLITE_DONE) rc = query_error(s);
  sqlite3_finalize(st);
  return rc;
}

/* Places where a note links to a page that answers the query. */
static int run_linked(cns_search *s, seen *done) {
  int any = 0, rc = any_page_text(s, &any), step;
  if (rc || !any) return rc;
  char *sql = page_sql(s);
  sqlite3_stmt *st, *body_st;
  rc = prepare(s, &st, sql);
  free(sql);
  if (rc) return rc;
  if ((rc = prepare(s, &body_st, "SELECT body FROM page WHERE id=?"))) {
    sqlite3_finalize(st);
    return rc;
  }
  sqlite3_bind_text(st, 1, s->plan->match, -1, SQLITE_STATIC);
  bind_filters(s, st, 0);
  while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
    noterow n;
    row_to_note(st, 0, 0, &n);
    n.score *= VIA_FACTOR;
    if (s->opts.files_only) {
      if (was_seen(done, n.id)) continue;
      if (!could_place(s, 0, n.score)) break;
      mark_seen(done, n.id);
      s->notes_seen++;
      file_hit(s, &n);
      continue;
    }
    if (!could_place(s, 0, n.score)) break;
    rc = via_hit(s, st, body_st, &n);
  }
  if (!rc && step != SQLITE_ROW && step != SQLITE_DONE) rc = query_error(s);
  sqlite3_finalize(st);
  sqlite3_finalize(body_st);
  return rc;
}

static int by_path(const void *a, const void *b) {
  const hitrec *x = a, *y = b;
  int c = strcmp(x->path, y->path);
  return c ? c : (x->h.line < y->h.line ? -1 : x->h.line > y->h.line);
}

static int by_date(const void *a, const void *b) {
  const hitrec *x = a, *y = b;
  const char *dx = x->date ? x->date : "", *dy = y->date ? y->date : "";
  int c = strcmp(dy, dx); /* newest first */
  return c ? c : by_path(a, b);
}

static void order_hits(cns_search *s) {
  int (*cmp)(const void *, const void *) =
      s->opts.sort == CNS_SORT_PATH ? by_path
      : s->opts.sort == CNS_SORT_DATE ? by_date : by_score;
  if (s->nhits > 1) qsort(s->hits, s->nhits, sizeof *s->hits, cmp);
  if (s->opts.limit > 0 && s->nhits > (size_t)s->opts.limit &&
      !s->opts.files_only) {
    for (size_t i = (size_t)s->opts.limit; i < s->nhits; i++)
      hit_free(&s->hits[i]);
    s->nhits = (size_t)s->opts.limit;
  }
}

/* Keep one hit per note for -l, in the order notes were ranked. */
static void trim_files(cns_search *s) {
  if (s->opts.limit > 0 && s->nhits > (size_t)s->opts.limit) {
    for (size_t i = (size_t)s->opts.limit; i < s->nhits; i++)
      hit_free(&s->hits[i]);
    s->nhits = (size_t)s->opts.limit;
  }
}

static int run_all(cns_search *s) {
  seen done = {0};
  int rc;
  if (s->plan->match) {
    int more = 0;
    rc = run_tier(s, s->plan->match, 0, &done, &more);
    if (!rc && !s->opts.no_linked) rc = run_linked(s, &done);
    /* "all hits" (-n 0) means all notes holding every word: no fallback */
    int short_of = s->opts.limit > 0 && !more &&
                   s->notes_seen < (size_t)s->opts.limit;
    if (!rc && s->plan->match_any && short_of &&
        strcmp(s->plan->match_any, s->plan->match) != 0) {
      char *any = NULL;
      rc = feedback(s, &any);
      if (!rc)
        rc = run_tier(s, any ? any : s->plan->match_any, 1, &done, NULL);
      free(any);
    }
  } else {
    rc = run_tier(s, NULL, 0, &done, NULL);
  }
  free(done.ids);
  if (!rc) {
    if (s->opts.files_only && s->opts.sort == CNS_SORT_RANK) trim_files(s);
    else order_hits(s);
  }
  return rc;
}

/* Regex filters use the trigram index once it exists; the first regex
** search on a writable index builds it (a notice says so), a read-only
** one scans instead. */
static int ensure_trigram(cns_search *s) {
  int wanted = 0;
  for (size_t i = 0; i < s->plan->nfilters; i++) wanted |= s->trigram[i] != NULL;
  if (!wanted || store_trigram_ready(s->h->db)) return CNS_OK;
  if (!(s->h->flags & CNS_OPEN_READONLY)) {
    buf err = BUF_INIT;
    int rc = store_trigram_build(s->h->db, &err);
    if (rc) cns_seterr(s->h, rc, "%s", buf_str(&err));
    buf_free(&err);
    if (rc) return rc;
    free(s->h->notice);
    s->h->notice = cns_xstrdup("built the regex index (once; kept up to date "
                               "from now on)");
    return CNS_OK;
  }
  for (size_t i = 0; i < s->plan->nfilters; i++) {
    free(s->trigram[i]);
    s->trigram[i] = NULL;
  }
  return CNS_OK;
}

static int prepare_all(cns_search *s) {
  int rc = compile_filters(s);
  if (!rc) rc = ensure_trigram(s);
  if (!rc) rc = resolve_links(s);
  if (!rc && tok_open(s->h->db, &s->tok) != SQLITE_OK)
    rc = cns_dberr(s->h, "start the tokenizer");
  if (!rc) rc = tokenize_terms(s);
  if (!rc) rc = prepare(s, &s->body_st,
                           "SELECT unpack(z, len) FROM body WHERE note=?");
  if (!rc)
    rc = prepare(s, &s->row_st,
                 "SELECT path, title, date FROM note WHERE id=?");
  if (!rc)
    rc = prepare(s, &s->sec_st, "SELECT off, len, line, heading FROM section "
                                "WHERE note=? ORDER BY ord");
  if (!rc)
    rc = prepare(s, &s->link_st,
                 "SELECT off, coalesce(url, target), coalesce(text, target) "
                 "FROM link "
                 "WHERE note=? ORDER BY off");
  return rc;
}

/* A search reads most pages of the index once (a term's doclist, the
** notes it shows), so it runs with a page cache of 128 KB instead of
** SQLite's 2 MB: the cache reuses its slots rather than taking fresh
** memory for every page read, and each fresh page of memory costs the
** process a page fault (about 1.2 us on the machines measured), where a
** page evicted and read again costs no more.  Pages used over and over
** (B-tree roots and interior pages) stay in it.  At 45 MB a two-word
** search went from 365 to 229 page faults and 3.45 to 3.17 ms
** (bench/README.md).  The default comes back once the hits are made. */
static int search_cache(cns_search *s, int on) {
  if (s->h->resident) return CNS_OK; /* its warm cache is what it is for */
  if (sqlite3_exec(s->h->db, on ? "PRAGMA cache_size=-128"
                                : "PRAGMA cache_size=-2000",
                   NULL, NULL, NULL) != SQLITE_OK)
    return cns_dberr(s->h, "set up the search");
  return CNS_OK;
}

int cns_search_new(cns *h, const char *query, const cns_search_opts *opts,
                   cns_search **out) {
  cns_search *s = cns_xcalloc(1, sizeof *s);
  s->h = h;
  if (opts) s->opts = *opts;
  if (!opts || s->opts.limit < 0) s->opts.limit = h->cfg.limit;
  *out = NULL;
  buf err = BUF_INIT;
  int rc = qp_compile(query, strlen(query), &s->plan, &err);
  if (rc) cns_seterr(h, CNS_EQUERY, "%s", buf_str(&err));
  buf_free(&err);
  if (!rc) rc = prepare_all(s);
  if (!rc && !(rc = search_cache(s, 1))) {
    rc = run_all(s);
    int rc2 = search_cache(s, 0);
    if (!rc) rc = rc2;
  }
  if (rc) {
    cns_search_free(s);
    return rc;
  }
  *out = s;
  return CNS_OK;
}
