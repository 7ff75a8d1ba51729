/*
** qparse.c -- the query language: text to an FTS5 MATCH expression, the
** positive terms and the structured filters.
**
** Users type queries the way they think, so the rule is: anything that is
** not syntax is a literal.  The grammar, lowest precedence first (OR binds
** tighter than the implicit AND, as in most search engines):
**
**   query   = seq EOF
**   seq     = orx { ["AND"] orx }
**   orx     = unary { "OR" unary }
**   unary   = { "-" | "NOT" } primary
**   primary = "(" seq ")" | near | atom
**   near    = "NEAR" "(" { word | phrase } [ "," digits ] ")"
**   atom    = word | phrase | regex | field ":" value
**   value   = word | phrase | regex
**   word    = bytes up to whitespace or a ')' that is syntax, with an
**             optional trailing "*"; a '(' inside a word is literal when
**             its ')' is in the same word ("sizeof(int)") or nowhere
**             later (":-("), else it opens a group ("printf(a, b)")
**   phrase  = '"' bytes '"' [ "*" ]
**   regex   = "/" bytes-with-\/ "/" [ "i" ]
**
** Operators are upper-case only; "-" negates only at the start of a token
** ("e-mail" is a word).  A field is one of the nine known names; any other
** "x:y" (URLs, "c:\path", "10:30") is a word.  NUL bytes are whitespace
** (inside a "phrase" they separate words like a space); a regex may not
** hold one.
**
** The parser builds a small AST (word, NEAR, AND, OR, NOT, filter) with
** AND and OR flattened, double negation cancelled and words with no letter
** or digit dropped, since they would become empty FTS5 phrases and an empty
** phrase matches nothing.  The compile pass then writes FTS5:
**
**   word      "text" (quotes doubled), title : "text", "text" *
**   AND       "a" AND "b"; an AND with negated kids becomes
**             P NOT N or P NOT (N1 OR N2 ...), which FTS5 reads as
**             P NOT N1 NOT N2 but keeps the expression tree shallow
**             (newer FTS5 refuses NOT chains deeper than 256)
**   OR        "a" OR "b"
**   NEAR      NEAR("a" "b", 10)
**
** Every AND/OR/NOT kid that is not a single word or NEAR is wrapped in
** parentheses, so FTS5's own precedence never matters; explicit AND is
** always written because FTS5 rejects an implicit AND before '('.
**
** The plan also carries the ranking fallback (match_any, qp_fallback()):
** every positive word on its own, ORed, less the stopwords among them
** (unless all are stopwords), NOT what the query excludes.  search.c ranks
** it below the notes that hold every word, and may add words to it.
**
** Messages are one line in one shape, "<what> at offset N in '<query>'"
** (or quoting the offending token), with user bytes made safe: controls,
** NUL and invalid UTF-8 echo as '?', and echoes stop after 60 bytes.
** The first error wins; after it every parse step is a no-op.
**
** Invariants: filters live only at the top level (ANDed with everything);
** a plan has a match, or filters, or both; exclude is set only when match
** is NULL.  Limits keep hostile input cheap: 100 levels of parentheses
** while parsing (the recursion depth), 24 levels of parentheses in the
** emitted expression (FTS5's parser stack holds about 30), 4096 terms.
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "cnsint.h"

#define MAX_DEPTH     100   /* parentheses while parsing */
#define MAX_FTS_DEPTH 24    /* parentheses in the emitted FTS5 expression */
#define MAX_TERMS     4096  /* words, phrases and filters */
#define MAX_DIST      999999
#define ECHO_MAX      60    /* bytes of user input quoted in a message */

/* ------------------------------------------------------------ fields */

enum { K_COLUMN, K_LITERAL, K_TAG, K_DATE, K_NOTE };

static const struct field {
  const char *name;
  int kind;     /* K_*: how the value is read */
  int column;   /* K_COLUMN: the FTS5 column; else -1 */
  int rx;       /* the QP_F_* of a /regex/ or literal value */
} fields[] = {
  {"title", K_COLUMN, 0, QP_F_TITLE},
  {"heading", K_COLUMN, 1, QP_F_HEADING},
  {"link", K_COLUMN, 2, QP_F_URL},        /* link:/re/ means url:/re/ */
  {"body", K_COLUMN, 3, QP_F_TEXT},       /* body:/re/ means /re/ */
  {"tag", K_TAG, -1, QP_F_TAG},
  {"path", K_LITERAL, -1, QP_F_PATH},
  {"url", K_LITERAL, -1, QP_F_URL},
  {"after", K_DATE, -1, QP_F_AFTER},
  {"before", K_DATE, -1, QP_F_BEFORE},
  {"links-to", K_NOTE, -1, QP_F_LINKS_TO},       /* arg: a note, as typed */
  {"linked-from", K_NOTE, -1, QP_F_LINKED_FROM},
};
#define NFIELDS (sizeof fields / sizeof fields[0])

static const char *const colnames[] = {"title", "heading", "link", "body"};

/* ------------------------------------------------------------ types */

enum { T_EOF, T_LP, T_RP, T_OR, T_AND, T_NOT, T_NEAR, T_MINUS, T_COMMA,
       T_ATOM };
enum { V_WORD, V_PHRASE, V_REGEX };

typedef struct token {
  int kind;          /* T_* */
  size_t off, end;   /* the token's bytes in the query */
  int field;         /* T_ATOM: index into fields[], or -1 */
  int vkind;         /* T_ATOM: V_* */
  size_t a, b;       /* T_ATOM: the word, phrase content or regex body */
  int prefix;        /* T_ATOM: trailing '*' on a word or phrase */
  int caseless;      /* T_ATOM: regex flag i */
  long dist;         /* T_COMMA: the NEAR distance */
} token;

enum { N_WORD, N_NEAR, N_AND, N_OR, N_NOT, N_FILTER };

typedef struct node {
  int type;          /* N_* */
  size_t off;        /* where it starts in the query, for messages */
  const char *s;     /* N_WORD: the text as typed (points into the query) */
  size_t n;
  int prefix, column;
  long dist;         /* N_NEAR */
  struct node **kid; /* N_NEAR (words), N_AND, N_OR, N_NOT (one) */
  size_t nkid, cap;
  qp_filter f;       /* N_FILTER; moved into the plan on success */
} node;

typedef struct parser {
  const char *q;
  size_t len;
  size_t pos;        /* where the token after tok starts */
  token tok;         /* the lookahead */
  int in_near;       /* ',' ends words inside NEAR(...) */
  int depth;         /* open parentheses */
  int nterms;
  int rc;            /* the first error wins; every step after it is a no-op */
  buf *err;
  node **nodes;      /* every node made, for freeing */
  size_t nnodes, cap;
} parser;

/* ------------------------------------------------------------ bytes */

static int is_space(int c) { return cns_ascii_space(c) || c == 0; }


/* Decode one UTF-8 sequence from s[0..n), n >= 1.  Returns its length;
** *cp is UINT32_MAX for an invalid byte (length 1). */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp) {
  uint32_t c = s[0], min;
  size_t len, i;
  if (c < 0x80) { *cp = c; return 1; }
  if (c >= 0xc2 && c <= 0xdf) { len = 2; c &= 0x1f; min = 0x80; }
  else if (c >= 0xe0 && c <= 0xef) { len = 3; c &= 0x0f; min = 0x800; }
  else if (c >= 0xf0 && c <= 0xf4) { len = 4; c &= 0x07; min = 0x10000; }
  else { *cp = UINT32_MAX; return 1; }
  if (len > n) { *cp = UINT32_MAX; return 1; }
  for (i = 1; i < len; i++) {
    if ((s[i] & 0xc0) != 0x80) { *cp = UINT32_MAX; return 1; }
    c = (c << 6) | (s[i] & 0x3f);
  }
  if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
    *cp = UINT32_MAX;
    return 1;
  }
  *cp = c;
  return len;
}

/* Whether unicode61 would make a token of code point c: letters, digits
** and private use are token characters; punctuation, symbols, spaces and
** controls separate.  Outside ASCII this is an approximation by block
** (no Unicode tables here): the punctuation and symbol blocks users
** actually type are separators, everything else counts as a letter. */
static int is_token_cp(uint32_t c) {
  if (c < 0x80) return cns_ascii_alnum((int)c);
  if (c == UINT32_MAX) return 0;
  if (c <= 0xbf)
    return c == 0xaa || c == 0xb2 || c == 0xb3 || c == 0xb5 || c == 0xb9 ||
           c == 0xba || (c >= 0xbc && c <= 0xbe);
  if (c == 0xd7 || c == 0xf7) return 0;
  if (c >= 0x300 && c <= 0x36f) return 0;   /* combining marks */
  if (c >= 0x2000 && c <= 0x206f) return 0; /* general punctuation */
  if (c >= 0x20a0 && c <= 0x20ff) return 0; /* currency, combining */
  if (c >= 0x2190 && c <= 0x245f) return 0; /* arrows, math, technical */
  if (c >= 0x2500 && c <= 0x2bff) return 0; /* box, shapes, dingbats */
  if (c >= 0x2e00 && c <= 0x2e7f) return 0; /* supplemental punctuation */
  if (c >= 0x3000 && c <= 0x303f)           /* CJK punctuation */
    return (c >= 0x3005 && c <= 0x3007) || (c >= 0x3021 && c <= 0x3029) ||
           (c >= 0x3031 && c <= 0x3035) || (c >= 0x3038 && c <= 0x303c);
  if (c >= 0xfe00 && c <= 0xfe0f) return 0; /* variation selectors */
  if (c >= 0xfe10 && c <= 0xfe6f) return 0; /* vertical and small forms */
  if (c == 0xfeff || (c >= 0xfff0 && c <= 0xffff)) return 0;
  if (c >= 0xff01 && c <= 0xff65)           /* fullwidth ASCII punctuation */
    return (c >= 0xff10 && c <= 0xff19) || (c >= 0xff21 && c <= 0xff3a) ||
           (c >= 0xff41 && c <= 0xff5a);
  if (c >= 0x1f000 && c <= 0x1faff) return 0; /* emoji and pictographs */
  if (c >= 0xe0000 && c <= 0xe007f) return 0; /* tags */
  return 1;
}

/* Whether s[0..n) holds at least one character the tokenizer indexes. */
static int searchable(const char *s, size_t n) {
  const unsigned char *u = (const unsigned char *)s;
  size_t i = 0;
  while (i < n) {
    uint32_t c;
    i += utf8_next(u + i, n - i, &c);
    if (is_token_cp(c)) return 1;
  }
  return 0;
}

/* Append user input to a message: control bytes, NUL and invalid UTF-8
** become '?', and more than ECHO_MAX bytes are cut (at a character
** boundary) with "...". */
static void echo(buf *b, const char *s, size_t n) {
  const unsigned char *u = (const unsigned char *)s;
  size_t i = 0;
  while (i < n) {
    uint32_t c;
    size_t k = utf8_next(u + i, n - i, &c);
    if (i + k > ECHO_MAX) { buf_adds(b, "..."); return; }
    if (c == UINT32_MAX || c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0))
      buf_addc(b, '?');
    else
      buf_add(b, s + i, k);
    i += k;
  }
}

/* A copy of s[0..n) with NUL bytes as spaces; caller frees with free(). */
static char *copy_text(const char *s, size_t n) {
  char *t = cns_xstrndup(s, n);
  for (size_t i = 0; i < n; i++)
    if (!t[i]) t[i] = ' ';
  return t;
}

/* ------------------------------------------------------------ errors */

static void fail(parser *p, const char *fmt, ...) CNS_PRINTF(2, 3);
static void fail(parser *p, const char *fmt, ...) {
  va_list ap;
  if (p->rc) return;
  p->rc = CNS_EQUERY;
  p->tok.kind = T_EOF;   /* unwind: every loop stops at EOF */
  if (!p->err) return;
  buf_reset(p->err);
  va_start(ap, fmt);
  buf_vaddf(p->err, fmt, ap);
  va_end(ap);
}

/* "<what> at offset N in '<query>'" */
static void fail_at(parser *p, size_t off, const char *what) {
  buf e = BUF_INIT;
  echo(&e, p->q, p->len);
  fail(p, "%s at offset %zu in '%s'", what, off, buf_str(&e));
  buf_free(&e);
}

/* A message quoting s[0..n) once, through fmt's only %s. */
static void fail_quote(parser *p, const char *fmt, const char *s, size_t n) {
  buf e = BUF_INIT;
  echo(&e, s, n);
  fail(p, fmt, buf_str(&e));
  buf_free(&e);
}

/* ------------------------------------------------------------ lexer */

/* Whether the byte at i ends a bareword. */
static int is_delim(const parser *p, size_t i) {
  if (i >= p->len) return 1;
  char c = p->q[i];
  return is_space(c) || c == '(' || c == ')' || (p->in_near && c == ',');
}

/* Whether the bareword at i is exactly kw. */
static int is_kw(const parser *p, size_t i, const char *kw) {
  size_t n = strlen(kw);
  return p->len - i >= n && memcmp(p->q + i, kw, n) == 0 && is_delim(p, i + n);
}

/* Whether the '(' at i is closed by a later ')'. */
static int closes_later(const parser *p, size_t i) {
  long depth = 0;
  for (; i < p->len; i++) {
    if (p->q[i] == '(') depth++;
    else if (p->q[i] == ')' && --depth == 0) return 1;
  }
  return 0;
}

/* The end of the word starting at i.  A ')' ends it unless a '(' opened
** inside the word.  A '(' whose ')' is not in the word is syntax (the word
** ends before it: "printf(a, b)") if a later ')' closes it, else it is
** literal too (":-(", "f(x"). */
static size_t scan_word(const parser *p, size_t i) {
  size_t start = i, open_at = 0;
  int depth = 0;
  for (; i < p->len; i++) {
    char c = p->q[i];
    if (is_space(c) || (p->in_near && c == ',')) break;
    if (c == ')') {
      if (depth == 0) break;
      depth--;
    } else if (c == '(') {
      if (depth++ == 0) open_at = i;
    }
  }
  if (depth > 0 && open_at > start && closes_later(p, open_at))
    return open_at;
  return i;
}

/* A phrase from the quote at i (t->off may be earlier: a field's name). */
static void lex_phrase(parser *p, token *t, size_t i) {
  const char *close = memchr(p->q + i + 1, '"', p->len - i - 1);
  if (!close) { fail_at(p, i, "unbalanced quote"); return; }
  t->vkind = V_PHRASE;
  t->a = i + 1;
  t->b = (size_t)(close - p->q);
  t->end = t->b + 1;
  while (t->end < p->len && p->q[t->end] == '*') { t->prefix = 1; t->end++; }
}

/* A regex from the slash at i; the token (for messages) starts at t->off. */
static void lex_regex(parser *p, token *t, size_t i) {
  size_t j = i + 1, k, end;
  while (j < p->len && p->q[j] != '/') {
    if (!p->q[j]) { fail_at(p, j, "NUL byte in regex"); return; }
    j += (p->q[j] == '\\' && j + 1 < p->len) ? 2 : 1;
  }
  if (j >= p->len) {
    buf e = BUF_INIT;
    echo(&e, p->q + t->off, p->len - t->off);
    fail(p, "unterminated regex at offset %zu in '%s'", i, buf_str(&e));
    buf_free(&e);
    return;
  }
  t->vkind = V_REGEX;
  t->a = i + 1;
  t->b = j;
  for (end = j + 1; !is_delim(p, end); end++) {}
  for (k = j + 1; k < end; k++) {
    if (p->q[k] == 'i') { t->caseless = 1; continue; }
    buf flag = BUF_INIT, e = BUF_INIT;
    uint32_t c;
    echo(&flag, p->q + k,
         utf8_next((const unsigned char *)p->q + k, p->len - k, &c));
    echo(&e, p->q + t->off, end - t->off);
    fail(p, "unknown regex flag '%s' in '%s'", buf_str(&flag), buf_str(&e));
    buf_free(&flag);
    buf_free(&e);
    return;
  }
  t->end = end;
  if (t->a == t->b)
    fail_quote(p, "empty regex '%s'", p->q + t->off, t->end - t->off);
}

/* A word value from i: the text and, unless raw, a trailing '*'. */
static void lex_word(parser *p, token *t, size_t i, int raw) {
  t->vkind = V_WORD;
  t->a = i;
  t->end = t->b = scan_word(p, i);
  if (raw) return;
  while (t->b > t->a && p->q[t->b - 1] == '*') { t->b--; t->prefix = 1; }
}

/* Whether a '/' at i starts a regex: a lone '/' ("TCP / IP") is a word. */
static int starts_regex(const parser *p, size_t i) {
  return p->q[i] == '/' && i + 1 < p->len && !is_space(p->q[i + 1]);
}

/* A field at i whose name ends at colon. */
static void lex_field(parser *p, token *t, size_t i, size_t colon, int f) {
  size_t v = colon + 1;
  t->field = f;
  if (is_delim(p, v) && (v >= p->len || p->q[v] != '(')) {
    fail_quote(p, "empty value for '%s:'", p->q + i, colon - i);
  } else if (p->q[v] == '(') {
    buf e = BUF_INIT;
    buf_addf(&e, "'%s:' cannot apply to a group", fields[f].name);
    fail_at(p, v, buf_str(&e));
    buf_free(&e);
  } else if (p->q[v] == '"') {
    lex_phrase(p, t, v);
  } else if (fields[f].kind <= K_LITERAL && starts_regex(p, v)) {
    lex_regex(p, t, v);
  } else {
    lex_word(p, t, v, fields[f].kind != K_COLUMN);
  }
}

/* The known field whose name runs from i to a ':', or -1. */
static int field_at(const parser *p, size_t i, size_t *colon) {
  size_t j = i;
  while (j < p->len && ((p->q[j] >= 'a' && p->q[j] <= 'z') || p->q[j] == '-'))
    j++;
  if (j == i || j >= p->len || p->q[j] != ':') return -1;
  for (size_t f = 0; f < NFIELDS; f++)
    if (strlen(fields[f].name) == j - i &&
        memcmp(fields[f].name, p->q + i, j - i) == 0) {
      *colon = j;
      return (int)f;
    }
  return -1;
}

/* ", N" inside NEAR(...). */
static void lex_comma(parser *p, token *t, size_t i) {
  size_t j = i + 1, d;
  long n = 0;
  while (j < p->len && is_space(p->q[j])) j++;
  for (d = j; d < p->len && p->q[d] >= '0' && p->q[d] <= '9'; d++)
    if ((n = n * 10 + (p->q[d] - '0')) > MAX_DIST) break;
  if (d == j || n > MAX_DIST) {
    fail_at(p, j, "NEAR distance must be a number from 0 to 999999");
    return;
  }
  t->kind = T_COMMA;
  t->dist = n;
  t->end = d;
}

/* "NEAR" at i: it must open a parenthesis. */
static void lex_near(parser *p, token *t, size_t i) {
  size_t j = i + 4;
  while (j < p->len && is_space(p->q[j])) j++;
  if (j >= p->len || p->q[j] != '(') {
    fail_at(p, i, "NEAR needs '(' right after it");
    return;
  }
  t->kind = T_NEAR;
  t->end = j + 1;
}

static void lex_bareword(parser *p, token *t, size_t i) {
  static const struct { const char *kw; int kind; } ops[] = {
    {"OR", T_OR}, {"AND", T_AND}, {"NOT", T_NOT}};
  size_t colon;
  int f;
  for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++)
    if (is_kw(p, i, ops[k].kw)) {
      t->kind = ops[k].kind;
      t->end = i + strlen(ops[k].kw);
      return;
    }
  if (is_kw(p, i, "NEAR")) { lex_near(p, t, i); return; }
  t->kind = T_ATOM;
  if ((f = field_at(p, i, &colon)) >= 0) lex_field(p, t, i, colon, f);
  else lex_word(p, t, i, 0);
}

/* Whether a '-' before i negates: "-x", "-(", "-\"" but not "- x",
** "--verbose" or "-)". */
static int negates(const parser *p, size_t i) {
  if (i >= p->len) return 0;
  char c = p->q[i];
  return !is_space(c) && c != '-' && c != ')' && !(p->in_near && c == ',');
}

/* Read the token at p->pos into p->tok. */
static void advance(parser *p) {
  token *t = &p->tok;
  size_t i = p->pos;
  if (p->rc) return;
  while (i < p->len && is_space(p->q[i])) i++;
  memset(t, 0, sizeof *t);
  t->off = t->end = i;
  t->field = -1;
  if (i >= p->len) { t->kind = T_EOF; }
  else if (p->q[i] == '(') { t->kind = T_LP; t->end = i + 1; }
  else if (p->q[i] == ')') { t->kind = T_RP; t->end = i + 1; }
  else if (p->q[i] == ',' && p->in_near) { lex_comma(p, t, i); }
  else if (p->q[i] == '-' && negates(p, i + 1)) {
    t->kind = T_MINUS;
    t->end = i + 1;
  } else if (p->q[i] == '"') { t->kind = T_ATOM; lex_phrase(p, t, i); }
  else if (starts_regex(p, i)) { t->kind = T_ATOM; lex_regex(p, t, i); }
  else { lex_bareword(p, t, i); }
  if (p->rc) { t->kind = T_EOF; return; }
  p->pos = t->end;
}

/* ------------------------------------------------------------ AST */

static node *new_node(parser *p, int type, size_t off) {
  node *n = cns_xcalloc(1, sizeof *n);
  n->type = type;
  n->off = off;
  n->column = -1;
  if (p->nnodes == p->cap) {
    p->cap = p->cap ? 2 * p->cap : 32;
    p->nodes = cns_xrealloc(p->nodes, p->cap * sizeof *p->nodes);
  }
  p->nodes[p->nnodes++] = n;
  return n;
}

static void push_kid(node *n, node *k) {
  if (n->nkid == n->cap) {
    n->cap = n->cap ? 2 * n->cap : 4;
    n->kid = cns_xrealloc(n->kid, n->cap * sizeof *n->kid);
  }
  n->kid[n->nkid++] = k;
}

/* Add k to an AND or OR, splicing in the kids of a k of the same type.
** NULL (a dropped word, an empty group) adds nothing. */
static void add_kid(node *n, node *k) {
  if (!k) return;
  if (k->type != n->type) { push_kid(n, k); return; }
  for (size_t i = 0; i < k->nkid; i++) push_kid(n, k->kid[i]);
}

/* An AND or OR of no kids is nothing, of one kid is that kid. */
static node *settle(node *n) {
  if (!n || n->nkid == 0) return NULL;
  return n->nkid == 1 ? n->kid[0] : n;
}

static int count_term(parser *p) {
  if (++p->nterms <= MAX_TERMS) return 1;
  fail(p, "query has too many terms (more than %d)", MAX_TERMS);
  return 0;
}

static node *new_word(parser *p, const token *t, int column) {
  if (!searchable(p->q + t->a, t->b - t->a) || !count_term(p)) return NULL;
  node *n = new_node(p, N_WORD, t->off);
  n->s = p->q + t->a;
  n->n = t->b - t->a;
  n->prefix = t->prefix;
  n->column = column;
  return n;
}

/* A PCRE2 pattern matching s[0..n) literally: every ASCII character that
** is not a letter or digit gets a backslash, which PCRE2 always reads as
** "this character itself". */
static char *literal_pattern(const char *s, size_t n) {
  buf b = BUF_INIT;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)(s[i] ? s[i] : ' ');
    if (c < 0x80 && !cns_ascii_alnum(c)) buf_addc(&b, '\\');
    buf_addc(&b, c);
  }
  return buf_detach(&b);
}

/* YYYY, YYYY-MM or YYYY-MM-DD with a real month and day number. */
static int valid_date(const char *s, size_t n) {
  static const char *const shape = "dddd-dd-dd";
  if (n != 4 && n != 7 && n != 10) return 0;
  for (size_t i = 0; i < n; i++)
    if (shape[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != '-')
      return 0;
  if (n >= 7) {
    int m = (s[5] - '0') * 10 + (s[6] - '0');
    if (m < 1 || m > 12) return 0;
  }
  if (n == 10) {
    int d = (s[8] - '0') * 10 + (s[9] - '0');
    if (d < 1 || d > 31) return 0;
  }
  return 1;
}

/* The filter's arg from the token, or NULL after an error. */
static char *filter_arg(parser *p, const token *t, const struct field *f) {
  const char *v = p->q + t->a;
  size_t n = t->b - t->a;
  if (f->kind == K_NOTE) return copy_text(v, n); /* search.c resolves it */
  if (t->vkind == V_REGEX) return cns_xstrndup(v, n);
  if (f->kind == K_LITERAL) return literal_pattern(v, n);
  if (f->kind == K_DATE) {
    if (valid_date(v, n)) return cns_xstrndup(v, n);
    buf d = BUF_INIT, e = BUF_INIT;
    echo(&d, v, n);
    echo(&e, p->q + t->off, t->end - t->off);
    fail(p, "bad date '%s' in '%s': expected YYYY, YYYY-MM or YYYY-MM-DD",
         buf_str(&d), buf_str(&e));
    buf_free(&d);
    buf_free(&e);
    return NULL;
  }
  if (n && *v == '#') { v++; n--; }   /* K_TAG */
  if (!n) { fail(p, "empty value for '%s:'", f->name); return NULL; }
  char *tag = copy_text(v, n);
  for (char *c = tag; *c; c++)
    if (*c >= 'A' && *c <= 'Z') *c = (char)(*c - 'A' + 'a');
  return tag;
}

static node *new_filter(parser *p, const token *t) {
  const struct field *f = t->field >= 0 ? &fields[t->field] : NULL;
  if (p->depth > 0) {
    buf e = BUF_INIT, m = BUF_INIT;
    echo(&e, p->q + t->off, t->end - t->off);
    buf_addf(&m, "filter '%s' cannot be inside parentheses", buf_str(&e));
    fail_at(p, t->off, buf_str(&m));
    buf_free(&e);
    buf_free(&m);
    return NULL;
  }
  if (!count_term(p)) return NULL;
  char *arg = f ? filter_arg(p, t, f) : cns_xstrndup(p->q + t->a, t->b - t->a);
  if (!arg) return NULL;
  node *n = new_node(p, N_FILTER, t->off);
  n->f.field = f ? f->rx : QP_F_TEXT;
  n->f.caseless = t->caseless || (f && f->kind == K_LITERAL &&
                                  t->vkind != V_REGEX);
  n->f.arg = arg;
  n->f.source = copy_text(p->q + t->off, t->end - t->off);
  return n;
}

/* A word, phrase, column word or filter from the atom token. */
static node *new_atom(parser *p, const token *t) {
  if (t->field < 0)
    return t->vkind == V_REGEX ? new_filter(p, t) : new_word(p, t, -1);
  const struct field *f = &fields[t->field];
  if (f->kind == K_COLUMN && t->vkind != V_REGEX)
    return new_word(p, t, f->column);
  return new_filter(p, t);
}

/* Negate n: a filter flips, NOT NOT x is x. */
static node *negate(parser *p, node *n, size_t off) {
  if (!n) return NULL;
  if (n->type == N_FILTER) { n->f.negated = !n->f.negated; return n; }
  if (n->type == N_NOT) return n->kid[0];
  node *x = new_node(p, N_NOT, off);
  push_kid(x, n);
  return x;
}

/* ------------------------------------------------------------ parser */

static node *parse_seq(parser *p);

/* Whether the lookahead cannot start an operand. */
static int no_operand(const parser *p) {
  int k = p->tok.kind;
  return k == T_EOF || k == T_RP || k == T_OR || k == T_AND;
}

/* What a token is, for a message. */
static void token_text(const parser *p, const token *t, buf *out) {
  echo(out, p->q + t->off, (t->end > t->off ? t->end : t->off + 1) - t->off);
}

static node *parse_near(parser *p) {
  size_t open = p->tok.end - 1;
  node *n = new_node(p, N_NEAR, p->tok.off);
  n->dist = 10;
  p->in_near = 1;
  advance(p);
  while (!p->rc && p->tok.kind == T_ATOM && p->tok.field < 0 &&
         p->tok.vkind != V_REGEX) {
    node *w = new_word(p, &p->tok, -1);
    if (w) push_kid(n, w);
    advance(p);
  }
  if (!p->rc && p->tok.kind == T_COMMA) {
    n->dist = p->tok.dist;
    advance(p);
    if (!p->rc && p->tok.kind != T_RP && p->tok.kind != T_EOF)
      fail_at(p, p->tok.off, "expected ')' after the NEAR distance");
  }
  p->in_near = 0;
  if (p->rc) return NULL;
  if (p->tok.kind == T_EOF) {
    fail_at(p, open, "unbalanced parenthesis");
  } else if (p->tok.kind != T_RP) {
    buf t = BUF_INIT, m = BUF_INIT;
    token_text(p, &p->tok, &t);
    buf_addf(&m, "NEAR(...) takes only words and \"phrases\", not '%s',",
             buf_str(&t));
    fail_at(p, p->tok.off, buf_str(&m));
    buf_free(&t);
    buf_free(&m);
  }
  if (p->rc) return NULL;
  advance(p);
  return n->nkid ? n : NULL;
}

static node *parse_group(parser *p) {
  size_t open = p->tok.off;
  if (p->depth >= MAX_DEPTH) {
    fail(p, "query nested too deeply");
    return NULL;
  }
  p->depth++;
  advance(p);
  node *n = parse_seq(p);
  if (!p->rc && p->tok.kind != T_RP) fail_at(p, open, "unbalanced parenthesis");
  p->depth--;
  advance(p);
  return n;
}

static node *parse_primary(parser *p) {
  token t = p->tok;
  switch (t.kind) {
  case T_LP: return parse_group(p);
  case T_NEAR: return parse_near(p);
  case T_ATOM: {
    node *n = new_atom(p, &t);
    advance(p);
    return n;
  }
  case T_OR: fail_at(p, t.off, "OR needs a word on both sides"); return NULL;
  case T_AND: fail_at(p, t.off, "AND needs a word on both sides"); return NULL;
  case T_RP: fail_at(p, t.off, "unexpected ')'"); return NULL;
  default: return NULL;   /* T_EOF: an error is already set */
  }
}

/* Negations loop rather than recurse: "NOT NOT NOT ..." costs no stack. */
static node *parse_unary(parser *p) {
  int neg = 0;
  size_t off = p->tok.off;
  while (p->tok.kind == T_MINUS || p->tok.kind == T_NOT) {
    size_t at = p->tok.off;
    int is_not = p->tok.kind == T_NOT;
    neg = !neg;
    advance(p);
    if (is_not && no_operand(p)) {
      fail_at(p, at, "NOT needs a word after it");
      return NULL;
    }
  }
  node *n = parse_primary(p);
  return neg ? negate(p, n, off) : n;
}

static node *parse_or(parser *p) {
  node *first = parse_unary(p);
  if (p->tok.kind != T_OR) return first;
  node *n = new_node(p, N_OR, first ? first->off : p->tok.off);
  node *filter = first && first->type == N_FILTER ? first : NULL;
  add_kid(n, first);
  while (!p->rc && p->tok.kind == T_OR) {
    size_t at = p->tok.off;
    advance(p);
    if (no_operand(p)) {
      fail_at(p, at, "OR needs a word on both sides");
      break;
    }
    node *k = parse_unary(p);
    if (k && k->type == N_FILTER && !filter) filter = k;
    add_kid(n, k);
  }
  if (filter && !p->rc) {
    buf m = BUF_INIT;
    buf_adds(&m, "filter '");
    echo(&m, filter->f.source, strlen(filter->f.source));
    buf_adds(&m, "' cannot be inside OR");
    fail_at(p, filter->off, buf_str(&m));
    buf_free(&m);
  }
  return p->rc ? NULL : settle(n);
}

static node *parse_seq(parser *p) {
  node *n = new_node(p, N_AND, p->tok.off);
  int operands = 0;
  while (!p->rc && p->tok.kind != T_EOF && p->tok.kind != T_RP) {
    if (p->tok.kind == T_AND) {
      size_t at = p->tok.off;
      advance(p);
      if (!operands || no_operand(p)) {
        fail_at(p, at, "AND needs a word on both sides");
        break;
      }
    }
    add_kid(n, parse_or(p));
    operands++;
  }
  return p->rc ? NULL : settle(n);
}

/* ------------------------------------------------------------ checks */

/* Whether n requires some word to be present (not only absent). */
static int positive(const node *n) {
  if (n->type == N_NOT || n->type == N_FILTER) return 0;
  if (n->type != N_AND) return 1;
  for (size_t i = 0; i < n->nkid; i++)
    if (positive(n->kid[i])) return 1;
  return 0;
}

/* FTS5 has no unary NOT, so every OR branch and every negated group must
** require a word of its own. */
static void validate(parser *p, const node *n) {
  if (n->type == N_WORD || n->type == N_NEAR || n->type == N_FILTER) return;
  for (size_t i = 0; i < n->nkid && !p->rc; i++) {
    const node *k = n->kid[i];
    if (n->type == N_OR && !positive(k))
      fail_at(p, k->off, "each side of OR needs a word besides NOT/-");
    else if (n->type == N_NOT && !positive(k))
      fail_at(p, n->off, "NOT/- needs a group with a word besides NOT/-");
    else
      validate(p, k);
  }
}

/* ------------------------------------------------------------ FTS5 */

static void emit(parser *p, const node *n, buf *out, int depth);

static void add_string(buf *out, const char *s, size_t n) {
  buf_addc(out, '"');
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '"') buf_addc(out, '"');
    buf_addc(out, s[i] ? s[i] : ' ');
  }
  buf_addc(out, '"');
}

static void emit_word(const node *n, buf *out) {
  if (n->column >= 0) buf_addf(out, "%s : ", colnames[n->column]);
  add_string(out, n->s, n->n);
  if (n->prefix) buf_adds(out, " *");
}

static int is_leaf(const node *n) {
  return n->type == N_WORD || n->type == N_NEAR;
}

/* Open a parenthesis one level below depth, or fail when too deep. */
static int open_paren(parser *p, buf *out, int depth) {
  if (depth + 1 > MAX_FTS_DEPTH) {
    fail(p, "query nested too deeply");
    return 0;
  }
  buf_addc(out, '(');
  return 1;
}

static void emit_wrapped(parser *p, const node *n, buf *out, int depth) {
  if (is_leaf(n)) { emit(p, n, out, depth); return; }
  if (!open_paren(p, out, depth)) return;
  emit(p, n, out, depth + 1);
  buf_addc(out, ')');
}

/* What the negated kids of an AND exclude, ORed: "x -(a OR b) -c" leaves
** out a, b and c.  kids may hold other nodes; only N_NOT count. */
static void emit_excluded(parser *p, node *const *kids, size_t nkids,
                          buf *out, int depth) {
  const char *sep = "";
  for (size_t i = 0; i < nkids && !p->rc; i++) {
    if (kids[i]->type != N_NOT) continue;
    node *x = kids[i]->kid[0];
    node *const *v = x->type == N_OR ? x->kid : &x;
    size_t nv = x->type == N_OR ? x->nkid : 1;
    for (size_t j = 0; j < nv && !p->rc; j++) {
      buf_adds(out, sep);
      emit_wrapped(p, v[j], out, depth);
      sep = " OR ";
    }
  }
}

static size_t count_type(node *const *kids, size_t nkids, int type) {
  size_t c = 0;
  for (size_t i = 0; i < nkids; i++) c += kids[i]->type == type;
  return c;
}

/* How many operands emit_excluded() writes. */
static size_t count_excluded(node *const *kids, size_t nkids) {
  size_t c = 0;
  for (size_t i = 0; i < nkids; i++)
    if (kids[i]->type == N_NOT) {
      const node *x = kids[i]->kid[0];
      c += x->type == N_OR ? x->nkid : 1;
    }
  return c;
}

/* The positive kids ANDed, then NOT what the negated kids exclude.  At
** least one kid is positive (validate() and qp_compile() see to it). */
static void emit_and(parser *p, node *const *kids, size_t nkids, buf *out,
                     int depth) {
  size_t nneg = count_type(kids, nkids, N_NOT), npos = nkids - nneg;
  int wrap = npos > 1 && nneg > 0;
  const char *sep = "";
  if (wrap && !open_paren(p, out, depth)) return;
  for (size_t i = 0; i < nkids && !p->rc; i++) {
    if (kids[i]->type == N_NOT) continue;
    buf_adds(out, sep);
    if (npos == 1 && nneg == 0) emit(p, kids[i], out, depth);
    else emit_wrapped(p, kids[i], out, depth + wrap);
    sep = " AND ";
  }
  if (wrap) buf_addc(out, ')');
  if (!nneg || p->rc) return;
  buf_adds(out, " NOT ");
  if (count_excluded(kids, nkids) == 1) {
    emit_excluded(p, kids, nkids, out, depth);
  } else if (open_paren(p, out, depth)) {
    emit_excluded(p, kids, nkids, out, depth + 1);
    buf_addc(out, ')');
  }
}

static void emit(parser *p, const node *n, buf *out, int depth) {
  if (p->rc) return;
  switch (n->type) {
  case N_WORD: emit_word(n, out); break;
  case N_NEAR:
    buf_adds(out, "NEAR(");
    for (size_t i = 0; i < n->nkid; i++) {
      if (i) buf_addc(out, ' ');
      emit_word(n->kid[i], out);
    }
    buf_addf(out, ", %ld)", n->dist);
    break;
  case N_OR:
    for (size_t i = 0; i < n->nkid && !p->rc; i++) {
      if (i) buf_adds(out, " OR ");
      emit_wrapped(p, n->kid[i], out, depth);
    }
    break;
  case N_AND: emit_and(p, n->kid, n->nkid, out, depth); break;
  default: break;   /* N_NOT and N_FILTER are emitted by their parent */
  }
}

/* ------------------------------------------------------------ the plan */

static void add_term(qp_plan *pl, size_t *cap, const node *w) {
  if (pl->nterms == *cap) {
    *cap = *cap ? 2 * *cap : 8;
    pl->terms = cns_xrealloc(pl->terms, *cap * sizeof *pl->terms);
  }
  qp_term *t = &pl->terms[pl->nterms++];
  t->text = copy_text(w->s, w->n);
  t->prefix = w->prefix;
  t->column = w->column;
}

/* The positive words in the order typed; nothing under a NOT. */
static void collect_terms(qp_plan *pl, size_t *cap, const node *n) {
  if (n->type == N_WORD) { add_term(pl, cap, n); return; }
  if (n->type == N_NOT || n->type == N_FILTER) return;
  for (size_t i = 0; i < n->nkid; i++) collect_terms(pl, cap, n->kid[i]);
}

/* Words that say nothing about a note's subject.  Natural-language
** queries are full of them ("what is known about the ..."); in the OR of
** the fallback they would match nearly every note, and they are slow
** (long posting lists) for a weight that BM25's idf makes almost nil.
** They still count in the all-words tier.  Sorted, for bsearch(). */
static const char *const stopwords[] = {
  "a", "an", "and", "are", "as", "at", "be", "been", "being", "but", "by",
  "can", "could", "did", "do", "does", "for", "from", "had", "has", "have",
  "how", "i", "if", "in", "into", "is", "it", "its", "may", "might", "must",
  "of", "on", "or", "our", "shall", "should", "so", "such", "than", "that",
  "the", "their", "them", "then", "there", "these", "they", "this", "those",
  "to", "was", "we", "were", "what", "when", "where", "which", "while", "who",
  "whom", "whose", "why", "will", "with", "would", "you", "your"};

static int cmp_word(const void *key, const void *elt) {
  return strcmp(key, *(const char *const *)elt);
}

int qp_stopword(const char *s, size_t n) {
  char w[8];
  if (n == 0 || n >= sizeof w) return 0;
  for (size_t i = 0; i < n; i++)
    w[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i]);
  w[n] = 0;
  return bsearch(w, stopwords, sizeof stopwords / sizeof *stopwords,
                 sizeof *stopwords, cmp_word) != NULL;
}

static int term_is_stop(const qp_term *t) {
  return t->column < 0 && !t->prefix && qp_stopword(t->text, strlen(t->text));
}

char *qp_fallback(const qp_plan *pl, const char *const *extra, size_t nextra,
                  size_t *ntyped) {
  buf b = BUF_INIT;
  size_t nstop = 0, n = 0;
  for (size_t i = 0; i < pl->nterms; i++) nstop += term_is_stop(&pl->terms[i]);
  int drop = nstop < pl->nterms;   /* all stopwords: keep them all */
  if (pl->excluded) buf_addc(&b, '(');
  for (size_t i = 0; i < pl->nterms; i++) {
    const qp_term *t = &pl->terms[i];
    node w = {.s = t->text, .n = strlen(t->text), .prefix = t->prefix,
              .column = t->column};
    if (drop && term_is_stop(t)) continue;
    if (n++) buf_adds(&b, " OR ");
    emit_word(&w, &b);
  }
  if (ntyped) *ntyped = n;
  for (size_t i = 0; i < nextra && n; i++) {
    buf_adds(&b, " OR ");
    add_string(&b, extra[i], strlen(extra[i]));
  }
  if (!n) { buf_free(&b); return NULL; }
  if (pl->excluded) buf_addf(&b, ") NOT (%s)", pl->excluded);
  return buf_detach(&b);
}

/* Move the top-level filters into the plan and write match or exclude
** from the rest.  kids are the top-level operands (ANDed). */
static void build(parser *p, node **kids, size_t nkids, qp_plan *pl) {
  size_t nf = count_type(kids, nkids, N_FILTER), nrest = 0, cap = 0;
  size_t nneg = count_type(kids, nkids, N_NOT);
  buf b = BUF_INIT;
  pl->filters = nf ? cns_xcalloc(nf, sizeof *pl->filters) : NULL;
  for (size_t i = 0; i < nkids; i++) {
    if (kids[i]->type != N_FILTER) { kids[nrest++] = kids[i]; continue; }
    pl->filters[pl->nfilters++] = kids[i]->f;
    memset(&kids[i]->f, 0, sizeof kids[i]->f);
  }
  if (nrest == 0 && nf == 0) {
    fail(p, "query has no searchable words");
    return;
  }
  if (nrest > nneg) {
    emit_and(p, kids, nrest, &b, 0);
    pl->match = buf_detach(&b);
  } else if (nneg && nf == 0) {
    fail(p, "a query needs at least one word or filter besides NOT/-");
  } else if (nneg) {
    emit_excluded(p, kids, nrest, &b, 0);
    pl->exclude = buf_detach(&b);
  }
  buf_free(&b);
  for (size_t i = 0; i < nrest; i++) collect_terms(pl, &cap, kids[i]);
  if (pl->match && nneg) {   /* the fallback keeps the exclusions */
    emit_excluded(p, kids, nrest, &b, 0);
    pl->excluded = buf_detach(&b);
  }
  pl->match_any = qp_fallback(pl, NULL, 0, NULL);
}

static void free_nodes(parser *p) {
  for (size_t i = 0; i < p->nnodes; i++) {
    free(p->nodes[i]->kid);
    free(p->nodes[i]->f.arg);
    free(p->nodes[i]->f.source);
    free(p->nodes[i]);
  }
  free(p->nodes);
}

int qp_compile(const char *q, size_t len, qp_plan **out, buf *err) {
  parser p = {.q = q ? q : "", .len = q ? len : 0, .err = err};
  qp_plan *pl = cns_xcalloc(1, sizeof *pl);
  node *root, *one[1];
  *out = NULL;
  advance(&p);
  root = parse_seq(&p);
  if (!p.rc && p.tok.kind == T_RP) fail_at(&p, p.tok.off, "unexpected ')'");
  if (!p.rc && root) validate(&p, root);
  if (!p.rc) {
    one[0] = root;
    if (root && root->type == N_AND) build(&p, root->kid, root->nkid, pl);
    else build(&p, one, root ? 1 : 0, pl);
  }
  free_nodes(&p);
  if (p.rc) { qp_plan_free(pl); return p.rc; }
  *out = pl;
  return CNS_OK;
}

void qp_plan_free(qp_plan *pl) {
  if (!pl) return;
  free(pl->match);
  free(pl->match_any);
  free(pl->exclude);
  free(pl->excluded);
  for (size_t i = 0; i < pl->nterms; i++) free(pl->terms[i].text);
  free(pl->terms);
  for (size_t i = 0; i < pl->nfilters; i++) {
    free(pl->filters[i].arg);
    free(pl->filters[i].source);
  }
  free(pl->filters);
  free(pl);
}
