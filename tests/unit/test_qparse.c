/*
** test_qparse.c -- the query compiler: query text in, plan or message out.
**
** Tables of queries with the FTS5 expression, ranking fallback, exclude
** expression, filters and terms each must compile to, and tables of
** queries with the exact message each must fail with.  Every expression
** the compiler writes is also run against a real FTS5 table, so "compiles"
** always means "SQLite accepts it"; a small corpus checks that the
** expressions mean what the query says; and a deterministic fuzz loop
** throws hostile bytes at qp_compile.  Queries are always passed in a
** heap copy of exactly len bytes, so reading past len is an ASan report.
*/
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include "cnsint.h"
#include "check.h"

static sqlite3 *db;
static sqlite3_stmt *count_stmt;

/* ------------------------------------------------------------ helpers */

#define CHECK_NSTR(got, want) do {                                        \
    const char *gn_ = (got), *wn_ = (want);                               \
    if (!gn_ && !wn_) check_passed++;                                     \
    else CHECK_STR(gn_, wn_);                                             \
  } while (0)

static void open_db(void) {
  CHECK_INT(sqlite3_open(":memory:", &db), SQLITE_OK);
  CHECK_INT(sqlite3_exec(db,
    "CREATE VIRTUAL TABLE t USING fts5(title, heading, link, body,"
    " tokenize='porter unicode61');"
    "INSERT INTO t VALUES('Mixture of Experts', '', '',"
    "  'moe routing with megablocks');"
    "INSERT INTO t VALUES('', '', '', 'moe zero redundancy');"
    "INSERT INTO t VALUES('', '', '', 'expert parallelism in moe');"
    "INSERT INTO t VALUES('Lottery', 'Day 1', 'seqax',"
    "  'the pipeline has a bubble');"
    "INSERT INTO t VALUES('GPT-3.5 notes', '', '', 'llama.cpp on a v5e');",
    NULL, NULL, NULL), SQLITE_OK);
  CHECK_INT(sqlite3_prepare_v2(db, "SELECT count(*) FROM t WHERE t MATCH ?",
                               -1, &count_stmt, NULL), SQLITE_OK);
}

/* Rows of t matching expr, or -1 when FTS5 rejects it (message printed). */
static int fts_count(const char *expr) {
  int rc, n = -1;
  sqlite3_reset(count_stmt);
  sqlite3_bind_text(count_stmt, 1, expr, -1, SQLITE_TRANSIENT);
  rc = sqlite3_step(count_stmt);
  if (rc == SQLITE_ROW) n = sqlite3_column_int(count_stmt, 0);
  else fprintf(stderr, "fts5 rejects [%.200s]: %s\n", expr, sqlite3_errmsg(db));
  sqlite3_reset(count_stmt);
  return n;
}

static int fts_ok(const char *expr) { return !expr || fts_count(expr) >= 0; }

/* qp_compile on a heap copy of exactly len bytes (no terminator). */
static int compile(const char *q, size_t len, qp_plan **pl, buf *err) {
  char *copy = malloc(len ? len : 1);
  memcpy(copy, q, len);
  int rc = qp_compile(copy, len, pl, err);
  free(copy);
  return rc;
}

static const char *fname(int f) {
  static const char *const names[] = {"?", "path", "heading", "url", "title",
                                      "text", "tag", "after", "before"};
  return f >= 1 && f <= 8 ? names[f] : "?";
}

/* "[-]name[/i]=arg" for each filter, joined by " ; ". */
static void render_filters(const qp_plan *pl, buf *b) {
  for (size_t i = 0; i < pl->nfilters; i++) {
    const qp_filter *f = &pl->filters[i];
    buf_addf(b, "%s%s%s%s=%s", i ? " ; " : "", f->negated ? "-" : "",
             fname(f->field), f->caseless ? "/i" : "", f->arg);
  }
}

/* "[column:]text[*]" for each term, joined by ", ". */
static void render_terms(const qp_plan *pl, buf *b) {
  static const char *const cols[] = {"title", "heading", "link", "body"};
  for (size_t i = 0; i < pl->nterms; i++) {
    const qp_term *t = &pl->terms[i];
    if (i) buf_adds(b, ", ");
    if (t->column >= 0 && t->column <= 3) buf_addf(b, "%s:", cols[t->column]);
    buf_addf(b, "%s%s", t->text, t->prefix ? "*" : "");
  }
}

/* The plan's invariants, and that SQLite accepts all three expressions. */
static int plan_sane(const qp_plan *pl) {
  if (!pl->match && !pl->nfilters) return 0;   /* nothing to search by */
  if (pl->match && pl->exclude) return 0;      /* exclude only without match */
  if (!pl->match_any != !pl->nterms) return 0;
  return !pl->match == !pl->match_any;
}

/* ------------------------------------------------------------ successes */

typedef struct ok_case {
  const char *q;
  const char *match, *any, *exclude; /* NULL: must be NULL */
  const char *filters, *terms;       /* rendered; "" for none */
} ok_case;

/* A long natural-language question, as people paste them. */
#define NL_QUERY "what load balancing losses must be used when training " \
  "sparse mixture of experts models on many gpus ?"

static const ok_case ok_cases[] = {
  /* the syntax table */
  {"moe routing", "\"moe\" AND \"routing\"", "\"moe\" OR \"routing\"", NULL,
   "", "moe, routing"},
  {"\"expert parallelism\"", "\"expert parallelism\"",
   "\"expert parallelism\"", NULL, "", "expert parallelism"},
  {"moe OR megablocks", "\"moe\" OR \"megablocks\"",
   "\"moe\" OR \"megablocks\"", NULL, "", "moe, megablocks"},
  {"(a OR b) c", "(\"a\" OR \"b\") AND \"c\"", "\"b\" OR \"c\"", NULL,
   "", "a, b, c"},
  {"a b OR c", "\"a\" AND (\"b\" OR \"c\")", "\"b\" OR \"c\"", NULL,
   "", "a, b, c"},
  {"moe -zero", "\"moe\" NOT \"zero\"", "(\"moe\") NOT (\"zero\")", NULL, "", "moe"},
  {"moe NOT zero", "\"moe\" NOT \"zero\"", "(\"moe\") NOT (\"zero\")", NULL, "", "moe"},
  {"x -y -z", "\"x\" NOT (\"y\" OR \"z\")", "(\"x\") NOT (\"y\" OR \"z\")", NULL, "", "x"},
  {"tenstor*", "\"tenstor\" *", "\"tenstor\" *", NULL, "", "tenstor*"},
  {"NEAR(pipeline bubble, 5)", "NEAR(\"pipeline\" \"bubble\", 5)",
   "\"pipeline\" OR \"bubble\"", NULL, "", "pipeline, bubble"},
  {"NEAR(pipeline bubble)", "NEAR(\"pipeline\" \"bubble\", 10)",
   "\"pipeline\" OR \"bubble\"", NULL, "", "pipeline, bubble"},
  {"title:lottery", "title : \"lottery\"", "title : \"lottery\"", NULL, "",
   "title:lottery"},
  {"heading:matx link:seqax body:x",
   "heading : \"matx\" AND link : \"seqax\" AND body : \"x\"",
   "heading : \"matx\" OR link : \"seqax\" OR body : \"x\"", NULL, "",
   "heading:matx, link:seqax, body:x"},
  {"title:\"lottery ticket\"", "title : \"lottery ticket\"",
   "title : \"lottery ticket\"", NULL, "", "title:lottery ticket"},
  {"title:lott*", "title : \"lott\" *", "title : \"lott\" *", NULL, "",
   "title:lott*"},
  {"tag:moe", NULL, NULL, NULL, "tag=moe", ""},
  {"tag:#MoE", NULL, NULL, NULL, "tag=moe", ""},
  {"tag:\"Deep Learning\"", NULL, NULL, NULL, "tag=deep learning", ""},
  {"path:/2024/", NULL, NULL, NULL, "path=2024", ""},
  {"heading:/^Day 1/", NULL, NULL, NULL, "heading=^Day 1", ""},
  {"url:/github\\.com/", NULL, NULL, NULL, "url=github\\.com", ""},
  {"title:/v\\d+/i", NULL, NULL, NULL, "title/i=v\\d+", ""},
  {"/Mixture.of.Experts/i", NULL, NULL, NULL, "text/i=Mixture.of.Experts", ""},
  {"/Mixture of Experts/", NULL, NULL, NULL, "text=Mixture of Experts", ""},
  {"body:/re/ link:/gh/", NULL, NULL, NULL, "text=re ; url=gh", ""},
  {"moe path:/a\\/b/", "\"moe\"", "\"moe\"", NULL, "path=a\\/b", "moe"},
  {"after:2024-05-01 before:2024-06", NULL, NULL, NULL,
   "after=2024-05-01 ; before=2024-06", ""},
  {"after:2024 before:2024-12-31", NULL, NULL, NULL,
   "after=2024 ; before=2024-12-31", ""},
  {"path:notes/2024", NULL, NULL, NULL, "path/i=notes\\/2024", ""},
  {"path:\"My Notes\"", NULL, NULL, NULL, "path/i=My\\ Notes", ""},
  {"url:https://github.com/x", NULL, NULL, NULL,
   "url/i=https\\:\\/\\/github\\.com\\/x", ""},
  {"path:/ moe", "\"moe\"", "\"moe\"", NULL, "path/i=\\/", "moe"},
  {"moe tag:x after:2024 /re/", "\"moe\"", "\"moe\"", NULL,
   "tag=x ; after=2024 ; text=re", "moe"},
  /* literals */
  {"GPT-3.5 C++ llama.cpp 7B-class @user a/b e-mail v5e",
   "\"GPT-3.5\" AND \"C++\" AND \"llama.cpp\" AND \"7B-class\" AND \"@user\""
   " AND \"a/b\" AND \"e-mail\" AND \"v5e\"",
   "\"GPT-3.5\" OR \"C++\" OR \"llama.cpp\" OR \"7B-class\" OR \"@user\""
   " OR \"a/b\" OR \"e-mail\" OR \"v5e\"", NULL, "",
   "GPT-3.5, C++, llama.cpp, 7B-class, @user, a/b, e-mail, v5e"},
  {"c# c++", "\"c#\" AND \"c++\"", "\"c#\" OR \"c++\"", NULL, "", "c#, c++"},
  {"12\" screen", "\"12\"\"\" AND \"screen\"", "\"12\"\"\" OR \"screen\"",
   NULL, "", "12\", screen"},
  {"don't", "\"don't\"", "\"don't\"", NULL, "", "don't"},
  {"moe or not and near", "\"moe\" AND \"or\" AND \"not\" AND \"and\" AND "
   "\"near\"", "\"moe\" OR \"not\" OR \"near\"", NULL,
   "", "moe, or, not, and, near"},
  {"https://x c:\\path 10:30 foo:bar",
   "\"https://x\" AND \"c:\\path\" AND \"10:30\" AND \"foo:bar\"",
   "\"https://x\" OR \"c:\\path\" OR \"10:30\" OR \"foo:bar\"", NULL, "",
   "https://x, c:\\path, 10:30, foo:bar"},
  {"Title:x", "\"Title:x\"", "\"Title:x\"", NULL, "", "Title:x"},
  {"f(x) sizeof(int)", "\"f(x)\" AND \"sizeof(int)\"",
   "\"f(x)\" OR \"sizeof(int)\"", NULL, "", "f(x), sizeof(int)"},
  {"foo(bar baz)", "\"foo\" AND \"bar\" AND \"baz\"",
   "\"foo\" OR \"bar\" OR \"baz\"", NULL, "", "foo, bar, baz"},
  {"foo(bar", "\"foo(bar\"", "\"foo(bar\"", NULL, "", "foo(bar"},
  {"printf(x, y)", "\"printf\" AND \"x,\" AND \"y\"",
   "\"printf\" OR \"x,\" OR \"y\"", NULL, "", "printf, x,, y"},
  {":-( moe a(b(c)", "\"moe\" AND \"a(b(c)\"", "\"moe\" OR \"a(b(c)\"",
   NULL, "", "moe, a(b(c)"},
  {"(a)OR(b) NOT(c d)", "(\"a\" OR \"b\") NOT (\"c\" AND \"d\")",
   "(\"b\") NOT ((\"c\" AND \"d\"))", NULL, "", "a, b"},
  {"tag:a b OR c", "\"b\" OR \"c\"", "\"b\" OR \"c\"", NULL, "tag=a",
   "b, c"},
  {"TCP / IP", "\"TCP\" AND \"IP\"", "\"TCP\" OR \"IP\"", NULL, "", "TCP, IP"},
  {"moe, routing", "\"moe,\" AND \"routing\"", "\"moe,\" OR \"routing\"",
   NULL, "", "moe,, routing"},
  {"rg --vimgrep", "\"rg\" AND \"--vimgrep\"", "\"rg\" OR \"--vimgrep\"",
   NULL, "", "rg, --vimgrep"},
  {"a*b", "\"a*b\"", "\"a*b\"", NULL, "", "a*b"},
  {"tenstor**", "\"tenstor\" *", "\"tenstor\" *", NULL, "", "tenstor*"},
  {"\"moe\"x", "\"moe\" AND \"x\"", "\"moe\" OR \"x\"", NULL, "", "moe, x"},
  {"\"a OR b\"", "\"a OR b\"", "\"a OR b\"", NULL, "", "a OR b"},
  {"\"foo bar\"* baz", "\"foo bar\" * AND \"baz\"",
   "\"foo bar\" * OR \"baz\"", NULL, "", "foo bar*, baz"},
  {"naïve café 日本語", "\"naïve\" AND \"café\" AND \"日本語\"",
   "\"naïve\" OR \"café\" OR \"日本語\"", NULL, "",
   "naïve, café, 日本語"},
  /* the fallback leaves out stopwords, unless every word is one */
  {"what is The moe", "\"what\" AND \"is\" AND \"The\" AND \"moe\"",
   "\"moe\"", NULL, "", "what, is, The, moe"},
  {"the of", "\"the\" AND \"of\"", "\"the\" OR \"of\"", NULL, "",
   "the, of"},
  {"title:the moe the*", "title : \"the\" AND \"moe\" AND \"the\" *",
   "title : \"the\" OR \"moe\" OR \"the\" *", NULL, "", "title:the, moe, the*"},
  /* words with no letter or digit are dropped */
  {"+++ moe - ... * :::", "\"moe\"", "\"moe\"", NULL, "", "moe"},
  {"— moe 🙂 «»", "\"moe\"", "\"moe\"", NULL, "", "moe"},
  {"title:+++ moe \"...\" \"\"", "\"moe\"", "\"moe\"", NULL, "", "moe"},
  {"a -+++", "\"a\"", "\"a\"", NULL, "", "a"},
  {"moe ()", "\"moe\"", "\"moe\"", NULL, "", "moe"},
  {"a OR +++", "\"a\"", "\"a\"", NULL, "", "a"},
  {NL_QUERY, "\"what\" AND \"load\" AND \"balancing\" AND \"losses\" AND"
   " \"must\" AND \"be\" AND \"used\" AND \"when\" AND \"training\" AND"
   " \"sparse\" AND \"mixture\" AND \"of\" AND \"experts\" AND \"models\""
   " AND \"on\" AND \"many\" AND \"gpus\"", "\"load\" OR \"balancing\" OR"
   " \"losses\" OR \"used\" OR \"training\" OR \"sparse\" OR \"mixture\" OR"
   " \"experts\" OR \"models\" OR \"many\" OR \"gpus\"", NULL, "",
   "what, load, balancing, losses, must, be, used, when, training, sparse, "
   "mixture, of, experts, models, on, many, gpus"},
  /* operators and grouping */
  {"a AND b", "\"a\" AND \"b\"", "\"b\"", NULL, "", "a, b"},
  {"a AND b OR c AND d", "\"a\" AND (\"b\" OR \"c\") AND \"d\"",
   "\"b\" OR \"c\" OR \"d\"", NULL, "", "a, b, c, d"},
  {"(a OR (b OR c))", "\"a\" OR \"b\" OR \"c\"", "\"b\" OR \"c\"",
   NULL, "", "a, b, c"},
  {"((((moe))))", "\"moe\"", "\"moe\"", NULL, "", "moe"},
  {"(a b) OR c", "(\"a\" AND \"b\") OR \"c\"", "\"b\" OR \"c\"",
   NULL, "", "a, b, c"},
  {"a (b -c)", "(\"a\" AND \"b\") NOT \"c\"", "(\"b\") NOT (\"c\")", NULL, "",
   "a, b"},
  {"(a -b) OR c", "(\"a\" NOT \"b\") OR \"c\"", "\"c\"", NULL, "",
   "a, c"},
  {"x -(a OR b) -c", "\"x\" NOT (\"a\" OR \"b\" OR \"c\")", "(\"x\") NOT (\"a\" OR \"b\" OR \"c\")", NULL, "",
   "x"},
  {"x -(a b)", "\"x\" NOT (\"a\" AND \"b\")", "(\"x\") NOT ((\"a\" AND \"b\"))", NULL, "", "x"},
  {"x -(a -b)", "\"x\" NOT (\"a\" NOT \"b\")", "(\"x\") NOT ((\"a\" NOT \"b\"))", NULL, "", "x"},
  {"x -(-a)", "\"x\" AND \"a\"", "\"x\"", NULL, "", "x, a"},
  {"NOT NOT a", "\"a\"", "\"a\"", NULL, "", "a"},
  {"title:a OR heading:b", "title : \"a\" OR heading : \"b\"",
   "title : \"a\" OR heading : \"b\"", NULL, "", "title:a, heading:b"},
  {"moe -title:draft", "\"moe\" NOT title : \"draft\"", "(\"moe\") NOT (title : \"draft\")", NULL, "",
   "moe"},
  {"NEAR (a b, 3)", "NEAR(\"a\" \"b\", 3)", "\"b\"", NULL, "",
   "a, b"},
  {"NEAR(a \"b c\" d*,0)", "NEAR(\"a\" \"b c\" \"d\" *, 0)",
   "\"b c\" OR \"d\" *", NULL, "", "a, b c, d*"},
  {"NEAR(a +++) x", "NEAR(\"a\", 10) AND \"x\"", "\"x\"", NULL, "",
   "a, x"},
  {"NEAR() x", "\"x\"", "\"x\"", NULL, "", "x"},
  {"-NEAR(a b) c", "\"c\" NOT NEAR(\"a\" \"b\", 10)", "(\"c\") NOT (NEAR(\"a\" \"b\", 10))", NULL, "", "c"},
  {"NEAR(a b) OR c", "NEAR(\"a\" \"b\", 10) OR \"c\"",
   "\"b\" OR \"c\"", NULL, "", "a, b, c"},
  /* negation without a positive word */
  {"-zero tag:x", NULL, NULL, "\"zero\"", "tag=x", ""},
  {"-y NOT z path:/a/", NULL, NULL, "\"y\" OR \"z\"", "path=a", ""},
  {"-(a b) -c tag:t", NULL, NULL, "(\"a\" AND \"b\") OR \"c\"", "tag=t", ""},
  {"-path:/archive/ moe", "\"moe\"", "\"moe\"", NULL, "-path=archive", "moe"},
  {"NOT tag:draft moe", "\"moe\"", "\"moe\"", NULL, "-tag=draft", "moe"},
  {"-tag:a -/b/i", NULL, NULL, NULL, "-tag=a ; -text/i=b", ""},
  /* hostile but valid */
  {"/[/", NULL, NULL, NULL, "text=[", ""},
  {"moe   \t\n  routing", "\"moe\" AND \"routing\"", "\"moe\" OR \"routing\"",
   NULL, "", "moe, routing"},
};

static void check_ok(const ok_case *c, size_t len) {
  qp_plan *pl = NULL;
  buf err = BUF_INIT, f = BUF_INIT, t = BUF_INIT;
  int rc = compile(c->q, len, &pl, &err);
  if (rc != CNS_OK) {
    fprintf(stderr, "[%s] failed: %s\n", c->q, buf_str(&err));
    CHECK_INT(rc, CNS_OK);
    buf_free(&err);
    return;
  }
  render_filters(pl, &f);
  render_terms(pl, &t);
  CHECK_NSTR(pl->match, c->match);
  CHECK_NSTR(pl->match_any, c->any);
  CHECK_NSTR(pl->exclude, c->exclude);
  CHECK_STR(buf_str(&f), c->filters);
  CHECK_STR(buf_str(&t), c->terms);
  CHECK(fts_ok(pl->match));
  CHECK(fts_ok(pl->match_any));
  CHECK(fts_ok(pl->exclude));
  CHECK(plan_sane(pl));
  for (size_t i = 0; i < pl->nfilters; i++)
    CHECK(pl->filters[i].source && pl->filters[i].source[0]);
  qp_plan_free(pl);
  buf_free(&err);
  buf_free(&f);
  buf_free(&t);
}

static void test_ok_table(void) {
  for (size_t i = 0; i < sizeof ok_cases / sizeof ok_cases[0]; i++) {
    int before = check_failed;
    check_ok(&ok_cases[i], strlen(ok_cases[i].q));
    if (check_failed != before) fprintf(stderr, "  ok_cases[%zu]\n", i);
  }
}

/* ------------------------------------------------------------ failures */

typedef struct err_case {
  const char *q;
  const char *msg;
} err_case;

static const err_case err_cases[] = {
  {"\"moe", "unbalanced quote at offset 0 in '\"moe'"},
  {"moe (a", "unbalanced parenthesis at offset 4 in 'moe (a'"},
  {"moe)", "unexpected ')' at offset 3 in 'moe)'"},
  {"title:", "empty value for 'title:'"},
  {"title: moe", "empty value for 'title:'"},
  {"(path:)", "empty value for 'path:'"},
  {"tag:#", "empty value for 'tag:'"},
  {"moe OR", "OR needs a word on both sides at offset 4 in 'moe OR'"},
  {"OR moe", "OR needs a word on both sides at offset 0 in 'OR moe'"},
  {"a OR OR b", "OR needs a word on both sides at offset 2 in 'a OR OR b'"},
  {"(a OR) b", "OR needs a word on both sides at offset 3 in '(a OR) b'"},
  {"NEAR", "NEAR needs '(' right after it at offset 0 in 'NEAR'"},
  {"moe NEAR x", "NEAR needs '(' right after it at offset 4 in 'moe NEAR x'"},
  {"after:2024-13", "bad date '2024-13' in 'after:2024-13': expected YYYY, "
   "YYYY-MM or YYYY-MM-DD"},
  {"after:2024-00", "bad date '2024-00' in 'after:2024-00': expected YYYY, "
   "YYYY-MM or YYYY-MM-DD"},
  {"before:2024-01-32", "bad date '2024-01-32' in 'before:2024-01-32': "
   "expected YYYY, YYYY-MM or YYYY-MM-DD"},
  {"after:2024-1-5", "bad date '2024-1-5' in 'after:2024-1-5': expected "
   "YYYY, YYYY-MM or YYYY-MM-DD"},
  {"before:yesterday", "bad date 'yesterday' in 'before:yesterday': "
   "expected YYYY, YYYY-MM or YYYY-MM-DD"},
  {"after:20240", "bad date '20240' in 'after:20240': expected YYYY, "
   "YYYY-MM or YYYY-MM-DD"},
  {"/(ab", "unterminated regex at offset 0 in '/(ab'"},
  {"moe title:/(ab", "unterminated regex at offset 10 in 'title:/(ab'"},
  {"/ab\\/", "unterminated regex at offset 0 in '/ab\\/'"},
  {"//", "empty regex '//'"},
  {"path://i", "empty regex 'path://i'"},
  {"/ab/x", "unknown regex flag 'x' in '/ab/x'"},
  {"/usr/bin", "unknown regex flag 'b' in '/usr/bin'"},
  {"title:/a b/I", "unknown regex flag 'I' in 'title:/a b/I'"},
  {"AND", "AND needs a word on both sides at offset 0 in 'AND'"},
  {"a AND", "AND needs a word on both sides at offset 2 in 'a AND'"},
  {"a AND OR b", "AND needs a word on both sides at offset 2 in 'a AND OR b'"},
  {"OR", "OR needs a word on both sides at offset 0 in 'OR'"},
  {"NOT", "NOT needs a word after it at offset 0 in 'NOT'"},
  {"a b NOT", "NOT needs a word after it at offset 4 in 'a b NOT'"},
  {"a NOT OR b", "NOT needs a word after it at offset 2 in 'a NOT OR b'"},
  {"NEAR(", "unbalanced parenthesis at offset 4 in 'NEAR('"},
  {"NEAR(a b", "unbalanced parenthesis at offset 4 in 'NEAR(a b'"},
  {"(", "unbalanced parenthesis at offset 0 in '('"},
  {")", "unexpected ')' at offset 0 in ')'"},
  {"\"", "unbalanced quote at offset 0 in '\"'"},
  {"a \"b\" \"c", "unbalanced quote at offset 6 in 'a \"b\" \"c'"},
  {"*", "query has no searchable words"},
  {"/", "query has no searchable words"},
  {":::", "query has no searchable words"},
  {"", "query has no searchable words"},
  {" \t\n ", "query has no searchable words"},
  {"() +++ \"\"", "query has no searchable words"},
  {"-+++", "query has no searchable words"},
  {"-zero", "a query needs at least one word or filter besides NOT/-"},
  {"NOT zero -x", "a query needs at least one word or filter besides NOT/-"},
  {"(tag:moe)", "filter 'tag:moe' cannot be inside parentheses at offset 1 "
   "in '(tag:moe)'"},
  {"a (b /re/)", "filter '/re/' cannot be inside parentheses at offset 5 in "
   "'a (b /re/)'"},
  {"tag:a OR moe", "filter 'tag:a' cannot be inside OR at offset 0 in "
   "'tag:a OR moe'"},
  {"moe OR -path:/x/", "filter 'path:/x/' cannot be inside OR at offset 8 "
   "in 'moe OR -path:/x/'"},
  {"moe OR -x", "each side of OR needs a word besides NOT/- at offset 7 in "
   "'moe OR -x'"},
  {"(-a -b) OR c", "each side of OR needs a word besides NOT/- at offset 1 "
   "in '(-a -b) OR c'"},
  {"x -(-a -b)", "NOT/- needs a group with a word besides NOT/- at offset 2 "
   "in 'x -(-a -b)'"},
  {"NEAR(a OR b)", "NEAR(...) takes only words and \"phrases\", not 'OR', at "
   "offset 7 in 'NEAR(a OR b)'"},
  {"NEAR(a -b)", "NEAR(...) takes only words and \"phrases\", not '-', at "
   "offset 7 in 'NEAR(a -b)'"},
  {"NEAR(a title:b)", "NEAR(...) takes only words and \"phrases\", not "
   "'title:b', at offset 7 in 'NEAR(a title:b)'"},
  {"NEAR(a (b))", "NEAR(...) takes only words and \"phrases\", not '(', at "
   "offset 7 in 'NEAR(a (b))'"},
  {"NEAR(a b, x)", "NEAR distance must be a number from 0 to 999999 at "
   "offset 10 in 'NEAR(a b, x)'"},
  {"NEAR(a b,)", "NEAR distance must be a number from 0 to 999999 at "
   "offset 9 in 'NEAR(a b,)'"},
  {"NEAR(a b, 99999999)", "NEAR distance must be a number from 0 to 999999 "
   "at offset 10 in 'NEAR(a b, 99999999)'"},
  {"NEAR(a b, 5 c)", "expected ')' after the NEAR distance at offset 12 in "
   "'NEAR(a b, 5 c)'"},
  {"title:(a OR b)", "'title:' cannot apply to a group at offset 6 in "
   "'title:(a OR b)'"},
  /* echoed input is made safe and short */
  {"\"a\x01" "b\x7f", "unbalanced quote at offset 0 in '\"a?b?'"},
  {"\"caf\xff\xfe", "unbalanced quote at offset 0 in '\"caf?" "?'"},
  {"\"caf\xc3", "unbalanced quote at offset 0 in '\"caf?'"},
  {"\"0123456789012345678901234567890123456789012345678901234567890123456789",
   "unbalanced quote at offset 0 in "
   "'\"01234567890123456789012345678901234567890123456789012345678...'"},
  {"\"ééééééééééééééééééééééééééééééééé",
   "unbalanced quote at offset 0 in "
   "'\"ééééééééééééééééééééééééééééé...'"},
};

static void check_err(const char *q, size_t len, const char *want) {
  qp_plan *pl = (qp_plan *)&pl;   /* must be reset to NULL */
  buf err = BUF_INIT;
  int rc = compile(q, len, &pl, &err);
  CHECK_INT(rc, CNS_EQUERY);
  CHECK(pl == NULL);
  CHECK_STR(buf_str(&err), want);
  if (rc == CNS_OK) qp_plan_free(pl);
  buf_free(&err);
}

static void test_err_reset(void) {
  buf err = BUF_INIT;
  qp_plan *pl = NULL;
  buf_adds(&err, "stale message");
  CHECK_INT(compile("(", 1, &pl, &err), CNS_EQUERY);
  CHECK_STR(buf_str(&err), "unbalanced parenthesis at offset 0 in '('");
  buf_free(&err);
}

static void test_err_table(void) {
  for (size_t i = 0; i < sizeof err_cases / sizeof err_cases[0]; i++) {
    int before = check_failed;
    check_err(err_cases[i].q, strlen(err_cases[i].q), err_cases[i].msg);
    if (check_failed != before) fprintf(stderr, "  err_cases[%zu]\n", i);
  }
}

/* ------------------------------------------------------------ NUL bytes */

static void test_nul(void) {
  /* NUL is whitespace; in a phrase it separates words; a regex may not
  ** hold one; a trailing NUL counted in len is harmless. */
  static const ok_case sep = {"moe\0routing", "\"moe\" AND \"routing\"",
                              "\"moe\" OR \"routing\"", NULL, "",
                              "moe, routing"};
  static const ok_case phrase = {"\"a\0b\"", "\"a b\"", "\"a b\"", NULL, "",
                                 "a b"};
  static const ok_case trailing = {"moe\0", "\"moe\"", "\"moe\"", NULL, "",
                                   "moe"};
  static const ok_case path = {"path:\"a\0b\"", NULL, NULL, NULL,
                               "path/i=a\\ b", ""};
  check_ok(&sep, 11);
  check_ok(&phrase, 5);
  check_ok(&trailing, 4);
  check_ok(&path, 10);
  check_err("/a\0b/", 5, "NUL byte in regex at offset 2 in '/a?b/'");
  check_err("\0\0\0", 3, "query has no searchable words");
  check_err("\"a\0", 3, "unbalanced quote at offset 0 in '\"a?'");
}

/* ------------------------------------------------------------ limits */

/* n levels of "(" around moe. */
static void nested(buf *b, int n) {
  buf_reset(b);
  for (int i = 0; i < n; i++) buf_addc(b, '(');
  buf_adds(b, "moe");
  for (int i = 0; i < n; i++) buf_addc(b, ')');
}

/* n levels of alternating AND / OR / NOT groups, innermost a NEAR. */
static void alternating(buf *b, int n) {
  buf_reset(b);
  for (int i = 0; i < n; i++)
    buf_addf(b, i % 3 == 0 ? "title:w%d* (" : i % 3 == 1 ? "w%d OR (" :
             "w%d -(", i);
  buf_adds(b, "NEAR(x y*, 3) OR z");
  for (int i = 0; i < n; i++) buf_addc(b, ')');
}

static void test_limits(void) {
  buf q = BUF_INIT, err = BUF_INIT;
  qp_plan *pl = NULL;

  nested(&q, 100);
  CHECK_INT(compile(q.p, q.len, &pl, &err), CNS_OK);
  if (pl) CHECK_STR(pl->match, "\"moe\"");
  qp_plan_free(pl);
  pl = NULL;
  nested(&q, 101);
  check_err(q.p, q.len, "query nested too deeply");

  buf_reset(&q);
  for (int i = 0; i < 10000; i++) buf_addc(&q, '(');
  check_err(q.p, q.len, "query nested too deeply");
  buf_reset(&q);
  for (int i = 0; i < 10000; i++) buf_adds(&q, "NOT ");
  buf_adds(&q, "moe");
  CHECK_INT(compile(q.p, q.len, &pl, &err), CNS_OK);
  if (pl) CHECK_STR(pl->match, "\"moe\"");
  qp_plan_free(pl);
  pl = NULL;

  /* the deepest expression FTS5's parser takes, and one level more */
  alternating(&q, 24);
  CHECK_INT(compile(q.p, q.len, &pl, &err), CNS_OK);
  if (pl) {
    CHECK(fts_ok(pl->match));
    CHECK(fts_ok(pl->match_any));
  }
  qp_plan_free(pl);
  pl = NULL;
  alternating(&q, 25);
  check_err(q.p, q.len, "query nested too deeply");

  /* a 10 KB natural-language query */
  buf_reset(&q);
  while (q.len < 10240) buf_adds(&q, NL_QUERY " ");
  CHECK_INT(compile(q.p, q.len, &pl, &err), CNS_OK);
  if (pl) {
    CHECK(pl->nterms > 1400);
    CHECK(fts_ok(pl->match));
    CHECK(fts_ok(pl->match_any));
  }
  qp_plan_free(pl);
  pl = NULL;

  /* 4096 terms work, with half of them negated; 4097 do not */
  buf_reset(&q);
  for (int i = 0; i < 4096; i++) buf_addf(&q, i % 2 ? "-w%d " : "w%d ", i);
  CHECK_INT(compile(q.p, q.len, &pl, &err), CNS_OK);
  if (pl) {
    CHECK_INT(pl->nterms, 2048);
    CHECK(fts_ok(pl->match));
  }
  qp_plan_free(pl);
  pl = NULL;
  buf_adds(&q, "one-more");
  check_err(q.p, q.len, "query has too many terms (more than 4096)");

  buf_free(&q);
  buf_free(&err);
}

/* ------------------------------------------------------------ meaning */

/* The expressions select the right rows of the small corpus in open_db(). */
static void test_meaning(void) {
  static const struct { const char *q; int rows; } cases[] = {
    {"moe", 3},
    {"moe -zero", 2},
    {"moe -zero -megablocks", 1},
    {"moe NOT (zero OR parallelism)", 1},
    {"moe OR bubble", 4},
    {"megablocks OR zero moe", 2},
    {"\"expert parallelism\"", 1},
    {"\"parallelism expert\"", 0},
    {"NEAR(pipeline bubble, 5)", 1},
    {"NEAR(pipeline bubble, 1)", 0},
    {"title:lottery", 1},
    {"title:moe", 0},
    {"heading:\"day 1\"", 1},
    {"link:seqax", 1},
    {"body:lottery", 0},
    {"megab*", 1},
    {"GPT-3.5 llama.cpp v5e", 1},
    {"(a -zero) OR bubble", 2},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    qp_plan *pl = NULL;
    buf err = BUF_INIT;
    CHECK_INT(compile(cases[i].q, strlen(cases[i].q), &pl, &err), CNS_OK);
    if (pl && pl->match) {
      int n = fts_count(pl->match);
      if (n != cases[i].rows) fprintf(stderr, "  query [%s]\n", cases[i].q);
      CHECK_INT(n, cases[i].rows);
    }
    qp_plan_free(pl);
    buf_free(&err);
  }
}

/* ------------------------------------------------------------ fuzz */

static unsigned long long rng = 88172645463325252ULL;

static unsigned next_rand(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (unsigned)(rng >> 32);
}

/* Whether a message is one printable line. */
static int one_line(const char *m) {
  if (!*m) return 0;
  for (; *m; m++)
    if ((unsigned char)*m < 0x20 || *m == 0x7f) return 0;
  return m[-1] != '.';
}

/* Compile q: a success must be a sane plan SQLite accepts, a failure one
** clean line.  Returns 1 when all is well. */
static int fuzz_one(const char *q, size_t len) {
  qp_plan *pl = NULL;
  buf err = BUF_INIT;
  int good;
  int rc = compile(q, len, &pl, &err);
  if (rc == CNS_OK)
    good = pl && plan_sane(pl) && fts_ok(pl->match) &&
           fts_ok(pl->match_any) && fts_ok(pl->exclude);
  else
    good = rc == CNS_EQUERY && !pl && one_line(buf_str(&err)) &&
           err.len < 300;
  if (!good) {
    fprintf(stderr, "fuzz: bad result for [");
    fwrite(q, 1, len, stderr);
    fprintf(stderr, "]: %s\n", buf_str(&err));
  }
  qp_plan_free(pl);
  buf_free(&err);
  return good;
}

static void test_fuzz(void) {
  static const char *const pieces[] = {
    "a", "moe", "b", " ", " ", " ", "(", ")", "\"", "-", "*", "/", ":", ",",
    "OR ", "AND ", "NOT ", "NEAR(", "title:", "tag:", "path:", "after:",
    "\\", "i", "5", "\0", "\xff", "\xc3\xa9", "#", "+", "2024-01", "'", "\t",
    "heading:/", "url:", "link:", "body:", "NEAR", ", 3)", "é"};
  const size_t npieces = sizeof pieces / sizeof pieces[0];
  int bad = 0, ok = 0;
  buf q = BUF_INIT;
  for (int iter = 0; iter < 30000; iter++) {
    buf_reset(&q);
    int n = (int)(next_rand() % 24);
    for (int i = 0; i < n; i++) {
      const char *s = pieces[next_rand() % npieces];
      buf_add(&q, s, *s ? strlen(s) : 1);
    }
    if (!fuzz_one(q.p ? q.p : "", q.len)) bad++;
  }
  for (int iter = 0; iter < 5000; iter++) {
    char raw[64];
    size_t n = next_rand() % sizeof raw;
    for (size_t i = 0; i < n; i++) raw[i] = (char)(next_rand() & 0xff);
    if (!fuzz_one(raw, n)) bad++;
  }
  /* mostly-valid queries should mostly compile */
  for (int iter = 0; iter < 2000; iter++) {
    static const char *const words[] = {"moe", "a", "b", "-zero", "OR",
      "(x", "y)", "\"p q\"", "tag:t", "NEAR(u v)", "w*", "title:t"};
    buf_reset(&q);
    for (int i = 0, n = 1 + (int)(next_rand() % 8); i < n; i++) {
      buf_adds(&q, words[next_rand() % (sizeof words / sizeof words[0])]);
      buf_addc(&q, ' ');
    }
    qp_plan *pl = NULL;
    buf err = BUF_INIT;
    if (compile(q.p, q.len, &pl, &err) == CNS_OK) ok++;
    qp_plan_free(pl);
    buf_free(&err);
    if (!fuzz_one(q.p, q.len)) bad++;
  }
  CHECK_INT(bad, 0);
  CHECK(ok > 500);
  buf_free(&q);
}

int main(void) {
  open_db();
  test_ok_table();
  test_err_table();
  test_err_reset();
  test_nul();
  test_limits();
  test_meaning();
  test_fuzz();
  qp_plan_free(NULL);
  sqlite3_finalize(count_stmt);
  sqlite3_close(db);
  return check_done("test_qparse");
}
