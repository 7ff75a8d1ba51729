/*
** html.c -- the bytes of a fetched page to UTF-8 text: HTML through
** libxml2's HTML parser, plain text through iconv.  Pure: bytes in,
** strings out; no I/O, no SQL, and the parser never touches the network
** (HTML_PARSE_NONET; HTML has no external entities to load anyway).
**
** Why a real parser: tag soup is the normal case on the web, and the
** hard parts -- unclosed <p>s, entities (&eacute;, &#x2014;), charsets
** declared in <meta>, <script> bodies holding "</div>" -- are exactly
** what a hand-written stripper gets wrong.  libxml2 recovers from
** anything (HTML_PARSE_RECOVER) and hands back a tree.
**
** Charset: the Content-Type header's charset wins and is passed to the
** parser; without one libxml2 reads a <meta charset> / http-equiv, and
** falls back to UTF-8, switching to Latin-1 when the bytes are not
** UTF-8.  The result is always UTF-8.
**
** What is kept: the <title>; the text of the <body> with whitespace runs
** folded to one space (verbatim inside <pre>), one line per block
** element (p, div, li, h1-h6, tr, br...), table cells apart by a space;
** and the headings' text, once more, one per line, for the page's
** heading column.  What is dropped: <head> (but the title), <script>,
** <style>, <noscript>, <template>, <svg>, <iframe>, <object>, comments,
** and elements marked hidden or aria-hidden="true".
**
** The tree walk is iterative (parent/next pointers), so a deeply nested
** document cannot exhaust the stack; libxml2 itself caps nesting depth.
*/
#include <errno.h>
#include <iconv.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include "cnsint.h"

/* ---- plain text -------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s[0..n), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n) {
  if (s[0] < 0x80) return 1;
  size_t len = s[0] >= 0xF0 && s[0] <= 0xF4   ? 4
               : s[0] >= 0xE0                 ? 3
               : s[0] >= 0xC2 && s[0] <= 0xDF ? 2
                                              : 0;
  if (!len || len > n) return 0;
  for (size_t i = 1; i < len; i++)
    if ((s[i] & 0xC0) != 0x80) return 0;
  if (len == 3 && s[0] == 0xE0 && s[1] < 0xA0) return 0; /* overlong */
  if (len == 3 && s[0] == 0xED && s[1] >= 0xA0) return 0; /* surrogate */
  if (len == 4 && s[0] == 0xF0 && s[1] < 0x90) return 0;
  if (len == 4 && s[0] == 0xF4 && s[1] >= 0x90) return 0;
  return len;
}

static int valid_utf8(const char *s, size_t n) {
  for (size_t i = 0; i < n;) {
    size_t k = utf8_seq((const unsigned char *)s + i, n - i);
    if (!k) return 0;
    i += k;
  }
  return 1;
}

static int is_utf8_name(const char *cs) {
  return strcasecmp(cs, "utf-8") == 0 || strcasecmp(cs, "utf8") == 0 ||
         strcasecmp(cs, "us-ascii") == 0 || strcasecmp(cs, "ascii") == 0;
}

/* Convert with iconv; a byte that cannot be converted becomes U+FFFD.
** Returns 0 when iconv does not know the charset. */
static int convert(const char *in, size_t len, const char *from, buf *out) {
  iconv_t cd = iconv_open("UTF-8", from);
  if (cd == (iconv_t)-1) return 0;
  char chunk[4096];
  char *ip = (char *)in;
  size_t il = len;
  while (il > 0) {
    char *op = chunk;
    size_t ol = sizeof chunk;
    size_t r = iconv(cd, &ip, &il, &op, &ol);
    buf_add(out, chunk, (size_t)(op - chunk));
    if (r == (size_t)-1 && errno != E2BIG) { /* EILSEQ, EINVAL */
      buf_adds(out, "\xEF\xBF\xBD");
      ip++;
      il--;
      iconv(cd, NULL, NULL, NULL, NULL);
    }
  }
  char *op = chunk;
  size_t ol = sizeof chunk;
  iconv(cd, NULL, NULL, &op, &ol);
  buf_add(out, chunk, (size_t)(op - chunk));
  iconv_close(cd);
  return 1;
}

char *html_plain_to_utf8(const char *bytes, size_t len, const char *charset,
                         size_t *out_len) {
  buf out = BUF_INIT;
  buf_adds(&out, "");
  if (len >= 3 && memcmp(bytes, "\xEF\xBB\xBF", 3) == 0) {
    bytes += 3;
    len -= 3;
    charset = "utf-8";
  }
  int done = 0;
  if (charset && *charset && !is_utf8_name(charset))
    done = convert(bytes, len, charset, &out);
  if (!done && valid_utf8(bytes, len)) {
    buf_add(&out, bytes, len);
    done = 1;
  }
  if (!done && !convert(bytes, len, "WINDOWS-1252", &out))
    convert(bytes, len, "ISO-8859-1", &out);
  for (size_t i = 0; i < out.len; i++)
    if (out.p[i] == 0) out.p[i] = ' ';
  *out_len = out.len;
  return buf_detach(&out);
}

/* ---- HTML -------------------------------------------------------------- */

typedef struct walker {
  buf body, heading, h1;
  char *title;
  int at_bol;        /* body is at the start of a line */
  int space;         /* a space is owed before the next text */
  int pre;           /* inside <pre> */
  int head;          /* inside a heading */
  int h1s;           /* <h1>s seen */
} walker;

static int name_is(const xmlNode *n, const char *const *names) {
  for (; *names; names++)
    if (strcasecmp((const char *)n->name, *names) == 0) return 1;
  return 0;
}

static const char *const skipped[] = {
    "script", "style", "noscript", "template", "svg", "math",
    "iframe", "object", "embed", "canvas", "select", "button", NULL};
static const char *const blocks[] = {
    "address", "article", "aside", "blockquote", "body", "caption",
    "center", "dd", "details", "dialog", "dir", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3",
    "h4", "h5", "h6", "header", "hgroup", "hr", "html", "legend", "li",
    "main", "menu", "nav", "ol", "p", "pre", "section", "summary", "table",
    "tbody", "tfoot", "thead", "tr", "ul", NULL};
static const char *const cells[] = {"td", "th", NULL};
static const char *const headings[] = {"h1", "h2", "h3", "h4", "h5", "h6",
                                       NULL};

static int is_hidden(const xmlNode *n) {
  if (xmlHasProp((xmlNode *)n, (const xmlChar *)"hidden")) return 1;
  xmlChar *a = xmlGetProp((xmlNode *)n, (const xmlChar *)"aria-hidden");
  int h = a && strcasecmp((const char *)a, "true") == 0;
  xmlFree(a);
  return h;
}

static int is_skipped(const xmlNode *n) {
  return n->type == XML_ELEMENT_NODE && (name_is(n, skipped) || is_hidden(n));
}

static void newline(walker *w) {
  if (!w->at_bol) buf_addc(&w->body, '\n');
  w->at_bol = 1;
  w->space = 0;
}

/* Whitespace as HTML folds it, plus U+00A0 (&nbsp;). */
static size_t white_len(const unsigned char *s) {
  if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\f')
    return 1;
  if (s[0] == 0xC2 && s[1] == 0xA0) return 2;
  return 0;
}

/* Append text with whitespace folded; into body, and into heading while
** inside a heading. */
static void add_text(walker *w, const unsigned char *s) {
  if (w->pre) {
    for (; *s; s++) {
      if (*s == '\r') continue;
      buf_addc(&w->body, *s);
      w->at_bol = *s == '\n';
    }
    w->space = 0;
    return;
  }
  while (*s) {
    size_t k = white_len(s);
    if (k) {
      w->space = 1;
      s += k;
      continue;
    }
    if (w->space && !w->at_bol) {
      buf_addc(&w->body, ' ');
      if (w->head && w->heading.len &&
          w->heading.p[w->heading.len - 1] != '\n')
        buf_addc(&w->heading, ' ');
    }
    w->space = 0;
    w->at_bol = 0;
    buf_addc(&w->body, *s);
    if (w->head) buf_addc(&w->heading, *s);
    s++;
  }
}

/* The text of n with whitespace folded and trimmed; caller frees. */
static char *folded_text(xmlNode *n) {
  xmlChar *c = xmlNodeGetContent(n);
  buf b = BUF_INIT;
  int space = 0;
  for (const unsigned char *s = c ? c : (const xmlChar *)""; *s;) {
    size_t k = white_len(s);
    if (k) {
      space = 1;
      s += k;
      continue;
    }
    if (space && b.len) buf_addc(&b, ' ');
    space = 0;
    buf_addc(&b, *s++);
  }
  xmlFree(c);
  return buf_detach(&b);
}

static void enter(walker *w, xmlNode *n, int *descend) {
  *descend = 0;
  if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
    if (n->content) add_text(w, n->content);
    return;
  }
  if (n->type != XML_ELEMENT_NODE && n->type != XML_DOCUMENT_NODE &&
      n->type != XML_HTML_DOCUMENT_NODE)
    return; /* comments, processing instructions, DTDs */
  if (n->type == XML_ELEMENT_NODE) {
    if (strcasecmp((const char *)n->name, "title") == 0) {
      if (!w->title) w->title = folded_text(n);
      return;
    }
    if (is_skipped(n)) return;
    if (name_is(n, headings)) {
      if (w->heading.len && w->heading.p[w->heading.len - 1] != '\n')
        buf_addc(&w->heading, '\n');
      if (strcasecmp((const char *)n->name, "h1") == 0 && ++w->h1s == 1 &&
          !w->title) {
        char *t = folded_text(n);
        buf_adds(&w->h1, t);
        free(t);
      }
      w->head++;
    }
    if (strcasecmp((const char *)n->name, "br") == 0) {
      if (!w->at_bol) buf_addc(&w->body, '\n');
      w->at_bol = 1;
      w->space = 0;
    }
    if (name_is(n, blocks)) newline(w);
    if (name_is(n, cells)) w->space = 1;
    if (strcasecmp((const char *)n->name, "pre") == 0) w->pre++;
  }
  *descend = 1;
}

static void leave(walker *w, xmlNode *n) {
  if (n->type != XML_ELEMENT_NODE || is_skipped(n) ||
      strcasecmp((const char *)n->name, "title") == 0)
    return;
  if (name_is(n, headings)) {
    w->head--;
    if (w->heading.len && w->heading.p[w->heading.len - 1] != '\n')
      buf_addc(&w->heading, '\n');
  }
  if (strcasecmp((const char *)n->name, "pre") == 0) w->pre--;
  if (name_is(n, blocks)) newline(w);
  if (name_is(n, cells)) w->space = 1;
}

static void walk(walker *w, xmlNode *top) {
  xmlNode *n = top;
  for (;;) {
    int descend;
    enter(w, n, &descend);
    if (descend && n->children) {
      n = n->children;
      continue;
    }
    if (descend) leave(w, n);
    while (n != top && !n->next) {
      n = n->parent;
      leave(w, n);
    }
    if (n == top) break;
    n = n->next;
  }
}

/* Cut trailing blanks and newlines off b. */
static void trim_end(buf *b) {
  while (b->len && strchr(" \t\n", b->p[b->len - 1])) b->len--;
  if (b->p) b->p[b->len] = 0;
}

void html_to_text(const char *bytes, size_t len, const char *charset,
                  html_text *out) {
  walker w;
  memset(&w, 0, sizeof w);
  w.at_bol = 1;
  memset(out, 0, sizeof *out);
  xmlInitParser();
  if (len > INT_MAX) len = INT_MAX;
  int opts = HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
             HTML_PARSE_NONET | HTML_PARSE_COMPACT;
  htmlDocPtr doc = NULL;
  if (len) {
    doc = htmlReadMemory(bytes, (int)len, NULL,
                         charset && *charset ? charset : NULL, opts);
    if (!doc && charset) /* a charset libxml2 does not know */
      doc = htmlReadMemory(bytes, (int)len, NULL, NULL, opts);
  }
  if (doc) walk(&w, (xmlNode *)doc);
  xmlFreeDoc(doc);
  trim_end(&w.body);
  trim_end(&w.heading);
  if (w.title && !w.title[0]) {
    free(w.title);
    w.title = NULL;
  }
  if (!w.title && w.h1.len) w.title = buf_detach(&w.h1);
  buf_free(&w.h1);
  out->title = w.title;
  out->heading = buf_detach(&w.heading);
  out->body = buf_detach(&w.body);
}

void html_text_free(html_text *t) {
  if (!t) return;
  free(t->title);
  free(t->heading);
  free(t->body);
  memset(t, 0, sizeof *t);
}
