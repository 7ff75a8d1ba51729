/*
** test_html.c -- unit tests for indexer/html.c (HTML and plain text to
** UTF-8 text) and fetch_classify() (Content-Type to what to do): what is
** kept and what is dropped, block structure, entities, charsets from the
** header and from <meta>, and hostile input, which must only return.
*/
#include <stdlib.h>
#include <string.h>
#include "cnsint.h"
#include "check.h"

static html_text parse(const char *html, const char *charset) {
  html_text t;
  html_to_text(html, strlen(html), charset, &t);
  return t;
}

static int has(const char *hay, const char *needle) {
  return hay && strstr(hay, needle) != NULL;
}

static void test_basic(void) {
  html_text t = parse("<!DOCTYPE html><html><head><title> Hello &amp; "
                      "  World </title></head><body><h1>Top</h1><p>One "
                      "<b>two</b>\n  three.</p><p>Four&nbsp;five &eacute; "
                      "&#x2014; &lt;six&gt;</p></body></html>",
                      NULL);
  CHECK_STR(t.title, "Hello & World");
  CHECK_STR(t.body, "Top\nOne two three.\nFour five \xC3\xA9 \xE2\x80\x94 <six>");
  CHECK_STR(t.heading, "Top");
  html_text_free(&t);
}

static void test_dropped(void) {
  html_text t = parse(
      "<html><head><style>p{color:red} .styleword{}</style>"
      "<script>var scriptword = '</p>';</script></head><body>"
      "<!-- commentword --><p>kept</p><noscript>noscriptword</noscript>"
      "<template><p>templateword</p></template>"
      "<div hidden>hiddenword</div><span aria-hidden=\"true\">ariaword</span>"
      "<svg><text>svgword</text></svg><p>also kept</p></body></html>",
      NULL);
  CHECK_STR(t.body, "kept\nalso kept");
  const char *gone[] = {"styleword", "scriptword", "commentword",
                        "noscriptword", "templateword", "hiddenword",
                        "ariaword", "svgword"};
  for (size_t i = 0; i < sizeof gone / sizeof *gone; i++)
    CHECK(!has(t.body, gone[i]));
  CHECK(t.title == NULL);
  html_text_free(&t);
}

static void test_blocks(void) {
  html_text t = parse("<ul><li>a</li><li>b</li></ul>x<br>y"
                      "<table><tr><td>c1</td><td>c2</td></tr>"
                      "<tr><th>d1</th><td>d2</td></tr></table>"
                      "<span>in</span><span>line</span> <i>z</i>",
                      NULL);
  CHECK_STR(t.body, "a\nb\nx\ny\nc1 c2\nd1 d2\ninline z");
  html_text_free(&t);
  t = parse("<p>before</p><pre>  keep\n    these  spaces\n</pre><p>after</p>",
            NULL);
  CHECK_STR(t.body, "before\n  keep\n    these  spaces\nafter");
  html_text_free(&t);
}

static void test_headings(void) {
  html_text t = parse("<body><h1>First <em>one</em></h1><p>x</p><h2>Second"
                      "</h2><h3>  Third\n part </h3><h1>Another</h1></body>",
                      NULL);
  CHECK_STR(t.title, "First one"); /* no <title>: the first <h1> */
  CHECK_STR(t.heading, "First one\nSecond\nThird part\nAnother");
  html_text_free(&t);
}

static void test_charsets(void) {
  /* header charset, Latin-1 bytes */
  html_text t = parse("<title>Caf\xE9</title><p>cr\xE8me br\xFBl\xE9" "e</p>",
                      "iso-8859-1");
  CHECK_STR(t.title, "Caf\xC3\xA9");
  CHECK_STR(t.body, "cr\xC3\xA8me br\xC3\xBBl\xC3\xA9" "e");
  html_text_free(&t);
  /* charset in <meta> only */
  t = parse("<html><head><meta charset=\"iso-8859-1\"><title>M</title>"
            "</head><body><p>gar\xE7on</p></body></html>",
            NULL);
  CHECK_STR(t.body, "gar\xC3\xA7on");
  html_text_free(&t);
  t = parse("<html><head><meta http-equiv=\"Content-Type\" content=\"text/html;"
            " charset=windows-1252\"></head><body><p>\x93quoted\x94</p></body>"
            "</html>",
            NULL);
  CHECK_STR(t.body, "\xE2\x80\x9Cquoted\xE2\x80\x9D");
  html_text_free(&t);
  /* UTF-8 given and true */
  t = parse("<p>\xE2\x86\x92 arrow</p>", "utf-8");
  CHECK_STR(t.body, "\xE2\x86\x92 arrow");
  html_text_free(&t);
  /* a charset nobody knows: parsed anyway */
  t = parse("<p>plain words</p>", "x-no-such-charset");
  CHECK_STR(t.body, "plain words");
  html_text_free(&t);
}

static int utf8_ok(const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  while (*p) {
    int n = *p < 0x80 ? 1 : (*p >> 5) == 6 ? 2 : (*p >> 4) == 14 ? 3
                                             : (*p >> 3) == 30   ? 4
                                                                 : 0;
    if (!n) return 0;
    for (int i = 1; i < n; i++)
      if ((p[i] & 0xC0) != 0x80) return 0;
    p += n;
  }
  return 1;
}

static void test_hostile(void) {
  html_text t;
  html_to_text("", 0, NULL, &t);
  CHECK_STR(t.body, "");
  CHECK_STR(t.heading, "");
  CHECK(t.title == NULL);
  html_text_free(&t);
  html_text_free(NULL);
  /* invalid UTF-8 without a charset: still UTF-8 out */
  t = parse("<p>bad \xFF\xFE bytes \xC3</p>", NULL);
  CHECK(utf8_ok(t.body));
  CHECK(has(t.body, "bytes"));
  html_text_free(&t);
  /* binary noise, NULs included */
  char noise[4096];
  unsigned x = 12345;
  for (size_t i = 0; i < sizeof noise; i++) {
    x = x * 1103515245u + 12345u;
    noise[i] = (char)(x >> 16);
  }
  html_to_text(noise, sizeof noise, NULL, &t);
  CHECK(t.body != NULL && utf8_ok(t.body));
  html_text_free(&t);
  /* unclosed everything, very deep nesting */
  buf deep = BUF_INIT;
  for (int i = 0; i < 100000; i++) buf_adds(&deep, "<div><b>");
  buf_adds(&deep, "bottom");
  html_to_text(deep.p, deep.len, NULL, &t);
  CHECK(t.body != NULL);
  html_text_free(&t);
  buf_free(&deep);
  t = parse("<p>unclosed <b>bold <i>both</p><p>next", NULL);
  CHECK_STR(t.body, "unclosed bold both\nnext");
  html_text_free(&t);
  t = parse("<title></title><p>x</p>", NULL);
  CHECK(t.title == NULL); /* an empty <title> is no title */
  html_text_free(&t);
}

static void test_plain(void) {
  size_t n;
  char *s = html_plain_to_utf8("caf\xC3\xA9\n", 6, NULL, &n);
  CHECK_STR(s, "caf\xC3\xA9\n");
  CHECK_INT(n, 6);
  free(s);
  s = html_plain_to_utf8("caf\xE9", 4, "iso-8859-1", &n);
  CHECK_STR(s, "caf\xC3\xA9");
  free(s);
  s = html_plain_to_utf8("\x93hi\x94", 4, NULL, &n); /* not UTF-8: cp1252 */
  CHECK_STR(s, "\xE2\x80\x9Chi\xE2\x80\x9D");
  free(s);
  s = html_plain_to_utf8("a\0b", 3, NULL, &n);
  CHECK_INT(n, 3);
  CHECK_STR(s, "a b");
  free(s);
  s = html_plain_to_utf8("\xEF\xBB\xBF" "bom", 6, "iso-8859-1", &n);
  CHECK_STR(s, "bom"); /* a BOM says UTF-8, whatever the header */
  free(s);
  s = html_plain_to_utf8("ok \xFF", 4, "utf-8", &n); /* lies: cp1252 */
  CHECK_STR(s, "ok \xC3\xBF");
  free(s);
  s = html_plain_to_utf8("x", 1, "no-such-charset", &n);
  CHECK_STR(s, "x");
  free(s);
  s = html_plain_to_utf8("", 0, NULL, &n);
  CHECK_STR(s, "");
  CHECK_INT(n, 0);
  free(s);
}

static void test_classify(void) {
  char *cs;
  CHECK_INT(fetch_classify("text/html", &cs), FETCH_HTML);
  CHECK(cs == NULL);
  CHECK_INT(fetch_classify("text/html; charset=ISO-8859-1", &cs), FETCH_HTML);
  CHECK_STR(cs, "iso-8859-1");
  free(cs);
  CHECK_INT(fetch_classify("Text/HTML;charset=\"UTF-8\"", &cs), FETCH_HTML);
  CHECK_STR(cs, "utf-8");
  free(cs);
  CHECK_INT(fetch_classify("application/xhtml+xml", &cs), FETCH_HTML);
  CHECK_INT(fetch_classify("text/plain; format=flowed; charset=koi8-r", &cs),
            FETCH_TEXT);
  CHECK_STR(cs, "koi8-r");
  free(cs);
  CHECK_INT(fetch_classify("text/markdown; charset=utf-8", &cs),
            FETCH_MARKDOWN);
  free(cs);
  CHECK_INT(fetch_classify("text/x-markdown", &cs), FETCH_MARKDOWN);
  CHECK_INT(fetch_classify("text/x-rst", &cs), FETCH_TEXT);
  CHECK_INT(fetch_classify("text/css", &cs), FETCH_OTHER);
  CHECK_INT(fetch_classify("image/png", &cs), FETCH_OTHER);
  CHECK_INT(fetch_classify("application/pdf", &cs), FETCH_OTHER);
  CHECK_INT(fetch_classify("application/octet-stream", &cs), FETCH_OTHER);
  CHECK_INT(fetch_classify("", &cs), FETCH_OTHER);
  CHECK_INT(fetch_classify(NULL, &cs), FETCH_OTHER);
}

int main(void) {
  test_basic();
  test_dropped();
  test_blocks();
  test_headings();
  test_charsets();
  test_hostile();
  test_plain();
  test_classify();
  return check_done("test_html");
}
