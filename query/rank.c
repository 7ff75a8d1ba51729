/*
** rank.c -- cns_rank(), BM25 with a weight for each query phrase.
**
** FTS5's bm25() weighs columns but treats every phrase of the query
** alike.  Pseudo-relevance feedback (search.c) adds words to a query that
** must count for less than the words the person typed, so cns_rank()
** computes the same BM25 (k1 = 1.2, b = 0.75, FTS5's idf with its floor)
** over the same columns and weights, and multiplies each phrase's part by
** a weight given after the column weights:
**
**   cns_rank(note_fts, wtitle, wheading, wlink, wbody [, ntyped, q0, q1, ...])
**
** The idf of each phrase and the mean note length are computed once per
** query and kept with xSetAuxdata.  Like bm25(), it returns a negative
** number: ORDER BY it ascending puts the best note first.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cnsint.h"

/* BM25's constants, as in FTS5's bm25(). */
#define BM25_K1 1.2
#define BM25_B  0.75

/* Per-query data of cns_rank(): the idf of each phrase, the mean note
** length and a scratch array of per-phrase frequencies. */
typedef struct rank_data {
  int nphrase;
  double avgdl;
  double *idf, *freq;
} rank_data;

static int count_row(const Fts5ExtensionApi *api, Fts5Context *fts,
                     void *arg) {
  (*(sqlite3_int64 *)arg)++;
  return SQLITE_OK;
}

static void rank_data_free(void *p) {
  rank_data *d = p;
  if (d) {
    free(d->idf);
    free(d->freq);
  }
  free(d);
}

static int rank_data_get(const Fts5ExtensionApi *api, Fts5Context *fts,
                         rank_data **out) {
  rank_data *d = api->xGetAuxdata(fts, 0);
  sqlite3_int64 nrow = 0, ntok = 0;
  int rc = SQLITE_OK;
  if (d) { *out = d; return SQLITE_OK; }
  if ((rc = api->xRowCount(fts, &nrow)) != SQLITE_OK) return rc;
  if ((rc = api->xColumnTotalSize(fts, -1, &ntok)) != SQLITE_OK) return rc;
  d = cns_xcalloc(1, sizeof *d);
  d->nphrase = api->xPhraseCount(fts);
  d->avgdl = nrow ? (double)ntok / (double)nrow : 1;
  d->idf = cns_xcalloc((size_t)d->nphrase + 1, sizeof *d->idf);
  d->freq = cns_xcalloc((size_t)d->nphrase + 1, sizeof *d->freq);
  for (int i = 0; rc == SQLITE_OK && i < d->nphrase; i++) {
    sqlite3_int64 nhit = 0;
    rc = api->xQueryPhrase(fts, i, &nhit, count_row);
    double idf = log(((double)nrow - (double)nhit + 0.5) /
                     ((double)nhit + 0.5));
    d->idf[i] = idf > 1e-6 ? idf : 1e-6;
  }
  if (rc == SQLITE_OK) rc = api->xSetAuxdata(fts, d, rank_data_free);
  else rank_data_free(d);
  if (rc == SQLITE_OK) *out = d;
  return rc;
}

/* cns_rank(note_fts, wtitle, wheading, wlink, wbody [, ntyped, q0, q1, ...])
** is bm25() (same k1, b, idf and field weights, negated so that smaller
** is better) in which phrase i's share is multiplied by q_i (1 when not
** given).  With ntyped, a note none of whose first ntyped phrases occur
** scores 0. */
static void cns_rank(const Fts5ExtensionApi *api, Fts5Context *fts,
                     sqlite3_context *ctx, int nval, sqlite3_value **val) {
  rank_data *d = NULL;
  int ninst = 0, ntok = 0, ntyped = nval > 4 ? sqlite3_value_int(val[4]) : -1;
  int typed = ntyped < 0, rc = rank_data_get(api, fts, &d);
  if (rc == SQLITE_OK) rc = api->xInstCount(fts, &ninst);
  if (rc == SQLITE_OK) rc = api->xColumnSize(fts, -1, &ntok);
  if (rc == SQLITE_OK) memset(d->freq, 0, (size_t)d->nphrase * sizeof *d->freq);
  for (int i = 0; rc == SQLITE_OK && i < ninst; i++) {
    int ip, ic, io;
    rc = api->xInst(fts, i, &ip, &ic, &io);
    if (rc != SQLITE_OK || ip >= d->nphrase) continue;
    d->freq[ip] += ic < 4 && ic < nval ? sqlite3_value_double(val[ic]) : 1.0;
    if (ip < ntyped) typed = 1;
  }
  if (rc != SQLITE_OK) {
    sqlite3_result_error_code(ctx, rc);
    return;
  }
  double score = 0, norm = BM25_K1 * (1 - BM25_B + BM25_B * ntok / d->avgdl);
  for (int i = 0; i < d->nphrase; i++) {
    double f = d->freq[i];
    if (f <= 0) continue;
    double q = 5 + i < nval ? sqlite3_value_double(val[5 + i]) : 1.0;
    score += q * d->idf[i] * f * (BM25_K1 + 1) / (f + norm);
  }
  sqlite3_result_double(ctx, typed ? -score : 0.0);
}

int rank_register(sqlite3 *db) {
  fts5_api *api = tok_fts5_api(db);
  if (!api) return SQLITE_ERROR;
  return api->xCreateFunction(api, "cns_rank", NULL, cns_rank, NULL);
}

