/*
** regex.c -- PCRE2, and nothing else includes pcre2.h.
**
** Regexes come from users, so every match is bounded: a match limit and a
** depth limit make a catastrophic pattern (/(a+)+$/ on a long line) fail
** fast with CNS_ELIMIT instead of hanging, and the JIT (used when the
** platform has it) gets a JIT stack of fixed size.  Patterns compile in
** UTF mode with invalid UTF-8 in the subject tolerated (notes are not
** always valid UTF-8), so a match is found in the bytes as they are.
**
** rx_register() adds regexp(pattern, text) and regexpi(pattern, text) to
** SQLite for the structured filters; the compiled pattern is cached per
** statement with sqlite3_set_auxdata, so a filter over 10,000 rows
** compiles once.
*/
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>
#include "cnsint.h"

#define MATCH_LIMIT 5000000
#define DEPTH_LIMIT 100000

struct rx {
  pcre2_code *code;
  pcre2_match_data *md;
  pcre2_match_context *mctx;
  pcre2_jit_stack *jit;
};

void rx_free(rx *r) {
  if (!r) return;
  pcre2_match_data_free(r->md);
  pcre2_match_context_free(r->mctx);
  pcre2_jit_stack_free(r->jit);
  pcre2_code_free(r->code);
  free(r);
}

static void quote_pattern(buf *err, const char *pattern) {
  for (const char *p = pattern; *p; p++)
    buf_addc(err, (unsigned char)*p < 0x20 ? '?' : *p);
}

static int setup_match(rx *r) {
  r->md = pcre2_match_data_create_from_pattern(r->code, NULL);
  r->mctx = pcre2_match_context_create(NULL);
  if (!r->md || !r->mctx) return 0;
  pcre2_set_match_limit(r->mctx, MATCH_LIMIT);
  pcre2_set_depth_limit(r->mctx, DEPTH_LIMIT);
  if (pcre2_jit_compile(r->code, PCRE2_JIT_COMPLETE) == 0) {
    r->jit = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, NULL);
    if (r->jit) pcre2_jit_stack_assign(r->mctx, NULL, r->jit);
  }
  return 1;
}

int rx_compile(const char *pattern, int caseless, rx **out, buf *err) {
  int ecode;
  PCRE2_SIZE eoff;
  uint32_t opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_MULTILINE |
                  (caseless ? PCRE2_CASELESS : 0);
  rx *r = cns_xcalloc(1, sizeof *r);
  *out = NULL;
  r->code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, opts,
                          &ecode, &eoff, NULL);
  if (!r->code) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(ecode, msg, sizeof msg);
    buf_adds(err, "bad regex '/");
    quote_pattern(err, pattern);
    buf_addf(err, "/' at offset %zu: %s", (size_t)eoff, (char *)msg);
    rx_free(r);
    return CNS_EQUERY;
  }
  if (!setup_match(r)) {
    rx_free(r);
    buf_adds(err, "out of memory compiling a regex");
    return CNS_ELIMIT;
  }
  *out = r;
  return CNS_OK;
}

int rx_find(rx *r, const char *text, size_t len, size_t start, size_t *ms,
            size_t *me, buf *err) {
  int rc = pcre2_match(r->code, (PCRE2_SPTR)text, len, start, 0, r->md,
                       r->mctx);
  if (rc >= 0) {
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(r->md);
    *ms = ov[0];
    *me = ov[1] < ov[0] ? ov[0] : ov[1];
    return 1;
  }
  if (rc == PCRE2_ERROR_NOMATCH) return 0;
  if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
      rc == PCRE2_ERROR_JIT_STACKLIMIT || rc == PCRE2_ERROR_HEAPLIMIT) {
    buf_adds(err, "regex is too expensive to match (it backtracks without "
                  "end); make it more specific");
    return CNS_ELIMIT;
  }
  PCRE2_UCHAR msg[256];
  pcre2_get_error_message(rc, msg, sizeof msg);
  buf_addf(err, "regex match failed: %s", (char *)msg);
  return CNS_ELIMIT;
}

/* ---- SQLite functions ----------------------------------------------- */

static void aux_free(void *p) { rx_free(p); }

static void regexp_fn(sqlite3_context *ctx, int caseless,
                      sqlite3_value **argv) {
  rx *r = sqlite3_get_auxdata(ctx, 0);
  if (!r) {
    buf err = BUF_INIT;
    const char *pat = (const char *)sqlite3_value_text(argv[0]);
    if (!pat || rx_compile(pat, caseless, &r, &err) != CNS_OK) {
      sqlite3_result_error(ctx, err.p ? err.p : "bad regex", -1);
      buf_free(&err);
      return;
    }
    sqlite3_set_auxdata(ctx, 0, r, aux_free);
    r = sqlite3_get_auxdata(ctx, 0);
    if (!r) {
      sqlite3_result_error_nomem(ctx);
      return;
    }
  }
  const char *text = (const char *)sqlite3_value_text(argv[1]);
  size_t n = (size_t)sqlite3_value_bytes(argv[1]), ms, me;
  if (!text) {
    sqlite3_result_int(ctx, 0);
    return;
  }
  buf err = BUF_INIT;
  int rc = rx_find(r, text, n, 0, &ms, &me, &err);
  if (rc < 0 || rc > 1) sqlite3_result_error(ctx, buf_str(&err), -1);
  else sqlite3_result_int(ctx, rc);
  buf_free(&err);
}

static void regexp_cs(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  regexp_fn(ctx, 0, argv);
}

static void regexp_ci(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  regexp_fn(ctx, 1, argv);
}

int rx_register(sqlite3 *db) {
  int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
  int rc = sqlite3_create_function(db, "regexp", 2, flags, NULL, regexp_cs,
                                   NULL, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_create_function(db, "regexpi", 2, flags, NULL, regexp_ci,
                                 NULL, NULL);
  return rc;
}
