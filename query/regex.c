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
**
** rx_trigram_query() makes regex search fast, as Google Code Search and
** zoekt do: it reads the pattern for literal runs every match must
** contain ("Mixture" and "Experts" in /Mixture.of.Experts/), and turns
** them into an AND of the trigrams that the note_tri index answers (only
** word trigrams such as "Mix", none with a space or punctuation: tri.c).
** PCRE2 then confirms only those candidates.  The reading is
** conservative: an alternation at the top level, a group, a class or an
** optional atom ends a run, and anything it does not understand yields no
** literals, which means "scan every note" -- slower, never wrong.
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
  buf copy;          /* rx_find_copy()'s subject, with RX_SLACK zeros */
};

void rx_free(rx *r) {
  if (!r) return;
  buf_free(&r->copy);
  pcre2_match_data_free(r->md);
  pcre2_match_context_free(r->mctx);
  pcre2_jit_stack_free(r->jit);
  pcre2_code_free(r->code);
  free(r);
}

/* The pattern as it may be shown: control bytes and bytes that are not
** UTF-8 become '?', so a message is always one line of valid text. */
static void quote_pattern(buf *err, const char *pattern) {
  const unsigned char *p = (const unsigned char *)pattern;
  const unsigned char *end = p + strlen(pattern);
  while (*p) {
    size_t n = utf8_len((const char *)p, (size_t)(end - p));
    if (n == 0 || *p < 0x20 || *p == 0x7f) {
      buf_addc(err, '?');
      p++;
    } else {
      buf_add(err, p, n);
      p += n;
    }
  }
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

int rx_find_copy(rx *r, const char *text, size_t len, size_t start,
                 size_t *ms, size_t *me, buf *err) {
  static const char zeros[RX_SLACK];
  buf_reset(&r->copy);
  if (len) buf_add(&r->copy, text, len);
  buf_add(&r->copy, zeros, RX_SLACK);
  return rx_find(r, r->copy.p, len, start, ms, me, err);
}

/* ---- required literals ---------------------------------------------- */

typedef struct lits {
  buf run;           /* the literal run being read */
  buf query;         /* the FTS5 expression being built */
  int ntri;
  int caseless;      /* the pattern is matched as /re/i */
} lits;

static size_t utf8_chars(const char *s, size_t n) {
  size_t c = 0;
  for (size_t i = 0; i < n; i++) c += ((unsigned char)s[i] & 0xC0) != 0x80;
  return c;
}

/* Byte length of the UTF-8 character at s (1 for invalid bytes). */
static size_t char_len(const char *s, size_t n) {
  unsigned char c = (unsigned char)s[0];
  size_t l = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
  return l <= n ? l : 1;
}

/* May the character c (l bytes) go into a trigram?  Only plain ones:
** control characters, bytes that are not UTF-8 and characters past
** U+FFFF are not tokenized by FTS5's trigram tokenizer the way PCRE2
** reads them (found by fuzz_regex).  Under /i, only ASCII and U+0080 to
** U+017F (Latin-1 and Latin Extended-A): PCRE2 matches a letter caselessly
** to every member of its Unicode case set, and FTS5 folds case with older
** tables, so for "в" PCRE2 also matches U+1C80, which FTS5 does not fold
** to "в" (also found by fuzz_regex).  tests/unit/test_regex.c checks the
** two ranges against both libraries, character by character. */
static int plain_char(const lits *L, const unsigned char *c, size_t l) {
  if (l == 1) return c[0] >= 0x20 && c[0] < 0x7f;
  if (l > 3 || (L->caseless && (l > 2 || c[0] > 0xC5))) return 0;
  for (size_t k = 1; k < l; k++)
    if ((c[k] & 0xC0) != 0x80) return 0;
  return utf8_len((const char *)c, l) == l;
}

/* End the current run: add its trigrams to the query when it has three
** characters or more; only its word trigrams, the only ones the regex
** index keeps (tri.c). */
static void end_run(lits *L) {
  const char *r = L->run.p ? L->run.p : "";
  size_t n = L->run.len;
  if (utf8_chars(r, n) >= 3) {
    for (size_t i = 0; i < n && L->ntri < 24;) {
      size_t a = char_len(r + i, n - i), b, c;
      if (i + a >= n) break;
      b = char_len(r + i + a, n - i - a);
      if (i + a + b >= n) break;
      c = char_len(r + i + a + b, n - i - a - b);
      if (!tri_word(r + i, a + b + c)) { /* not in the index (tri.c) */
        i += a;
        continue;
      }
      if (L->ntri++) buf_adds(&L->query, " AND ");
      buf_addc(&L->query, '"');
      for (size_t k = i; k < i + a + b + c; k++) {
        if (r[k] == '"') buf_addc(&L->query, '"');
        buf_addc(&L->query, r[k]);
      }
      buf_addc(&L->query, '"');
      i += a;
    }
  }
  buf_reset(&L->run);
}

/* Drop the run's last character (it was made optional). */
static void drop_last(lits *L) {
  while (L->run.len && ((unsigned char)L->run.p[L->run.len - 1] & 0xC0) == 0x80)
    L->run.len--;
  if (L->run.len) L->run.len--;
  if (L->run.p) L->run.p[L->run.len] = 0;
}

/* The index just past the escape at p[i] (a backslash), where only its
** extent matters: \Q quotes up to \E or the end; \cX takes the character
** after it, so "\c)" and "\c]" are control characters, not the end of a
** group or class (found by fuzz_regex); any other escape is the backslash
** and one character (the longer ones, \x{..} and \p{..}, hold no bracket
** or bar that PCRE2 accepts). */
static size_t skip_escape(const char *p, size_t i) {
  if (!p[i + 1]) return i + 1;
  if (p[i + 1] == 'Q') {
    const char *e = strstr(p + i + 2, "\\E");
    return e ? (size_t)(e - p) + 2 : strlen(p);
  }
  if (p[i + 1] == 'c' && p[i + 2]) return i + 3;
  return i + 2;
}

/* A POSIX class such as [:alpha:] at p[j], inside a class: the index of
** its closing ']', or 0 when the '[' is a plain member.  This is PCRE2's
** own test (check_posix_syntax in pcre2_compile.c), which must be
** followed exactly: reading "[[:alpha:]xyz]" as the class "[[:alpha:]"
** and then "xyz]" asked for trigrams the match need not hold (found by
** fuzz_regex). */
static size_t posix_class(const char *p, size_t j) {
  char t = p[j + 1];
  if (p[j] != '[' || (t != ':' && t != '.' && t != '=')) return 0;
  for (size_t k = j + 2; p[k] && p[k + 1]; k++) {
    if (p[k] == '\\' && (p[k + 1] == ']' || p[k + 1] == '\\')) k++;
    else if ((p[k] == '[' && p[k + 1] == t) || p[k] == ']') return 0;
    else if (p[k] == t && p[k + 1] == ']') return k + 1;
  }
  return 0;
}

/* Skip the class starting at p[i]; returns the index just past it, or 0
** when it is not closed or holds \Q or \E, whose rules inside a class
** (a quoted ']', skipped at the start) are not worth copying here: the
** caller then gives up on literals, which is slower and never wrong. */
static size_t skip_class(const char *p, size_t i) {
  size_t j = i + 1;
  if (p[j] == '^') j++;
  if (p[j] == ']') j++;
  while (p[j]) {
    size_t end = posix_class(p, j);
    if (end) j = end + 1;
    else if (p[j] == '\\' && (p[j + 1] == 'Q' || p[j + 1] == 'E')) return 0;
    else if (p[j] == '\\') j = skip_escape(p, j);
    else if (p[j] == ']') return j + 1;
    else j++;
  }
  return 0;
}

/* Skip a group starting at p[i]; returns the index just past it, or 0
** when it is not closed. */
static size_t skip_nested(const char *p, size_t i) {
  int depth = 0;
  while (p[i]) {
    if (p[i] == '\\') {
      i = skip_escape(p, i);
      continue;
    }
    if (p[i] == '[') {
      size_t j = skip_class(p, i);
      if (!j) return 0;
      i = j;
      continue;
    }
    if (p[i] == '(') depth++;
    else if (p[i] == ')' && --depth == 0) return i + 1;
    i++;
  }
  return 0;
}

/* Digits at p[*j] (and the spaces after them); 1 when there were any.
** *zero is set when the number is 0. */
static int number(const char *p, size_t *j, int *zero) {
  size_t k = *j;
  *zero = 1;
  while (p[*j] >= '0' && p[*j] <= '9') *zero &= p[(*j)++] == '0';
  int any = *j > k;
  while (p[*j] == ' ') (*j)++;
  return any;
}

/* Is the '{' at p[i] a counted quantifier, {n}, {n,}, {n,m} or {,m},
** spaces allowed (newer PCRE2 reads them)?  *end gets its '}', *zero
** whether the atom before it may be absent.  Anything else is a literal
** '{' to PCRE2: "{[][2}d]" is a brace and a class, whose '}' must not be
** taken for the end of a quantifier (found by fuzz_regex). */
static int counted(const char *p, size_t i, size_t *end, int *zero) {
  size_t j = i + 1;
  int lo_zero, hi_zero;
  while (p[j] == ' ') j++;
  int lo = number(p, &j, &lo_zero), hi = 0;
  if (p[j] == ',') {
    j++;
    while (p[j] == ' ') j++;
    hi = number(p, &j, &hi_zero);
  }
  if (p[j] != '}' || (!lo && !hi)) return 0;
  *end = j;
  *zero = !lo || lo_zero;
  return 1;
}

/* A quantifier at p[i]: make the previous atom optional or end the run. */
static size_t quantifier(lits *L, const char *p, size_t i) {
  size_t end = i;
  int zero = p[i] == '?' || p[i] == '*';
  if (p[i] == '{' && !counted(p, i, &end, &zero)) {
    end_run(L); /* a literal '{': left out, which only asks for less */
    return i + 1;
  }
  if (zero) drop_last(L);
  end_run(L);
  i = end + 1;
  if (p[i] == '?' || p[i] == '+') i++; /* lazy or possessive */
  return i;
}

/* An escape at p[i]; returns the next index, or 0 to give up. */
static size_t escape(lits *L, const char *p, size_t i) {
  char c = p[i + 1];
  if (!c) return 0;
  if (c == 'Q') {
    const char *e = strstr(p + i + 2, "\\E");
    size_t end = e ? (size_t)(e - p) : strlen(p);
    for (size_t k = i + 2; k < end;) {
      size_t l = char_len(p + k, end - k);
      if (plain_char(L, (const unsigned char *)p + k, l)) buf_add(&L->run, p + k, l);
      else end_run(L);
      k += l;
    }
    return e ? end + 2 : end;
  }
  if (c == 'c') { /* \cX, a control character */
    end_run(L);
    return p[i + 2] ? i + 3 : 0;
  }
  if (c == 'E')
    return i + 2; /* a \E with no \Q is nothing: "abc\E?" makes c optional */
  if (strchr("dDwWsSbBAzZGhHvVRXKntrfea", c)) {
    end_run(L); /* a class, an anchor or a control character */
    return i + 2;
  }
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
      (c >= '0' && c <= '9'))
    return 0; /* \x.., \p{..}, back references: give up */
  size_t l = char_len(p + i + 1, strlen(p + i + 1));
  if (plain_char(L, (const unsigned char *)p + i + 1, l)) buf_add(&L->run, p + i + 1, l);
  else end_run(L);
  return i + 1 + l;
}

static int has_top_alternation(const char *p) {
  int depth = 0;
  for (size_t i = 0; p[i]; i++) {
    if (p[i] == '\\') i = skip_escape(p, i) - 1;
    else if (p[i] == '[') { size_t j = skip_class(p, i); if (!j) return 1; i = j - 1; }
    else if (p[i] == '(') depth++;
    else if (p[i] == ')') depth--;
    else if (p[i] == '|' && depth <= 0) return 1;
  }
  return 0;
}

/* Walk the pattern; returns 0 when it cannot be read safely. */
static int read_literals(lits *L, const char *p) {
  size_t i = 0;
  while (p[i]) {
    char c = p[i];
    if (c == '\\') i = escape(L, p, i);
    else if (c == '[') { end_run(L); i = skip_class(p, i); }
    else if (c == '(') { end_run(L); i = skip_nested(p, i); }
    else if (c == '?' || c == '*' || c == '+' || c == '{') i = quantifier(L, p, i);
    else if (c == '|') return 0; /* an alternation: nothing is required */
    else if (c == '.' || c == '^' || c == '$' || c == ')') { end_run(L); i++; }
    else {
      size_t l = char_len(p + i, strlen(p + i));
      if (plain_char(L, (const unsigned char *)p + i, l)) buf_add(&L->run, p + i, l);
      else end_run(L);
      i += l;
    }
    if (i == 0) return 0;
  }
  end_run(L);
  return 1;
}

char *rx_trigram_query(const char *pattern, int caseless) {
  lits L = {BUF_INIT, BUF_INIT, 0, caseless};
  int ok = !has_top_alternation(pattern) && !strstr(pattern, "(?") &&
           !strstr(pattern, "(*") && read_literals(&L, pattern);
  buf_free(&L.run);
  if (!ok || L.ntri == 0) {
    buf_free(&L.query);
    return NULL;
  }
  return buf_detach(&L.query);
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
  int rc = rx_find_copy(r, text, n, 0, &ms, &me, &err); /* SQLite's text */
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
