#!/usr/bin/env python3
"""httpd.py -- the local web server behind tests/cli/fetch.sh.

Listens on 127.0.0.1 at a port the system picks, writes that port as one
line to the file named by its first argument (or stdout), and serves a
fixed set of pages, each for one behaviour of `cnsearch fetch`:

  /page.html       a normal page, with ETag and Last-Modified; answers 304
                   to a matching If-None-Match / If-Modified-Since
  /script.html     words only inside <script>, <style>, <noscript>, a comment
  /plain.txt       text/plain; charset=utf-8
  /notes.md        text/markdown
  /latin1.html     charset=iso-8859-1 in the header, Latin-1 bytes
  /meta.html       Latin-1 bytes, the charset only in a <meta> tag
  /gzip.html       gzip-encoded (Content-Encoding: gzip)
  /missing         404
  /r1 -> /r2 -> /r3 -> /page-final.html   a redirect chain of 3 hops
  /loop            redirects to itself
  /big             20 MB, announced in Content-Length
  /bigstream       20 MB streamed with no Content-Length
  /slow            never answers (sleeps until the server is killed)
  /blob.png        image/png bytes
  /flaky           200 the first time, 503 after that
  /hold?N          answers after 0.3 s; the most requests held at once is
                   reported by /count as "hold-max N" (the per-host limit)
  /to-file         redirects to file:///etc/passwd
  /count           how often each path was served, by status: "path status n"
                   lines; then "hold-max N" and "agent USER-AGENT" lines

Every request is counted by (path, status), so the test can check that a
refresh revalidated (304) instead of downloading again.
"""
import gzip
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ETAG = '"v1-page"'
LAST_MODIFIED = "Tue, 04 Jun 2024 10:00:00 GMT"

PAGE = b"""<!DOCTYPE html>
<html><head><title>Quokka Systems &amp; Friends</title>
<meta charset="utf-8"></head>
<body><h1>Quokka scheduling</h1>
<p>The zebrafinch allocator pins pages&nbsp;in place.</p>
<h2>Details</h2><ul><li>first item</li><li>second item</li></ul>
</body></html>"""

SCRIPT = b"""<html><head><title>Script page</title>
<style>.x { content: "styleonlyword"; }</style>
<script>var s = "scriptonlyword </div>";</script></head>
<body><!-- commentonlyword --><p>visibleword here</p>
<noscript>noscriptonlyword</noscript>
<template><p>templateonlyword</p></template>
<script type="application/ld+json">{"k": "jsononlyword"}</script>
</body></html>"""

FINAL = b"<html><head><title>Final stop</title></head><body><p>redirectedword arrived</p></body></html>"

LATIN1 = "<html><head><title>Caf\u00e9 cr\u00e8me</title></head><body><p>Na\u00efve r\u00e9sum\u00e9 of the cr\u00e8me br\u00fbl\u00e9e</p></body></html>".encode("latin-1")
META = "<html><head><meta charset=\"iso-8859-1\"><title>Meta page</title></head><body><p>Gar\u00e7on metaword</p></body></html>".encode("latin-1")
GZIPPED = gzip.compress(b"<html><head><title>Gzip page</title></head><body><p>gzipword inflated</p></body></html>")

counts = {}
lock = threading.Lock()
hold = {"now": 0, "max": 0}
agents = set()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):
        pass

    def count(self, status):
        with lock:
            key = (self.path, status)
            counts[key] = counts.get(key, 0) + 1

    def reply(self, status, body=b"", ctype="text/html; charset=utf-8", headers=()):
        self.count(status)
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def redirect(self, to):
        self.count(302)
        self.send_response(302)
        self.send_header("Location", to)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        with lock:
            agents.add(self.headers.get("User-Agent") or "")
        try:
            self.route()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def route(self):
        p = self.path
        if p == "/page.html":
            if (self.headers.get("If-None-Match") == ETAG or
                    self.headers.get("If-Modified-Since") == LAST_MODIFIED):
                self.count(304)
                self.send_response(304)
                self.send_header("ETag", ETAG)
                self.end_headers()
                return
            self.reply(200, PAGE, headers=[("ETag", ETAG), ("Last-Modified", LAST_MODIFIED)])
        elif p == "/script.html":
            self.reply(200, SCRIPT)
        elif p == "/plain.txt":
            self.reply(200, "Plain wombatword text, caf\u00e9 included.\n".encode(), "text/plain; charset=utf-8")
        elif p == "/notes.md":
            self.reply(200, b"# Markdown Page Title\n\nSome markdownword text.\n\n## Second heading\n", "text/markdown")
        elif p == "/latin1.html":
            self.reply(200, LATIN1, "text/html; charset=ISO-8859-1")
        elif p == "/meta.html":
            self.reply(200, META, "text/html")
        elif p == "/gzip.html":
            if "gzip" in (self.headers.get("Accept-Encoding") or ""):
                self.reply(200, GZIPPED, headers=[("Content-Encoding", "gzip")])
            else:
                self.reply(200, b"<p>gzip not asked for</p>")
        elif p == "/missing":
            self.reply(404, b"<p>not here</p>")
        elif p == "/r1":
            self.redirect("/r2")
        elif p == "/r2":
            self.redirect("/r3")
        elif p == "/r3":
            self.redirect("/page-final.html")
        elif p == "/page-final.html":
            self.reply(200, FINAL)
        elif p == "/loop":
            self.redirect("/loop")
        elif p == "/to-file":
            self.redirect("file:///etc/passwd")
        elif p == "/big":
            self.count(200)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(20 << 20))
            self.end_headers()
            chunk = b"x" * 65536
            for _ in range(320):
                self.wfile.write(chunk)
        elif p == "/bigstream":
            self.count(200)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            chunk = b"y" * 65536
            for _ in range(320):
                self.wfile.write(chunk)
        elif p == "/slow" or p.startswith("/slow"):
            self.count(0)
            time.sleep(3600)
        elif p.startswith("/hold"):
            with lock:
                hold["now"] += 1
                hold["max"] = max(hold["max"], hold["now"])
            time.sleep(0.3)
            with lock:
                hold["now"] -= 1
            self.reply(200, b"<p>held holdword</p>")
        elif p == "/flaky":
            with lock:
                first = (p, 200) not in counts
            if first:
                self.reply(200, b"<title>Flaky</title><p>flakyword</p>")
            else:
                self.reply(503, b"<p>down</p>")
        elif p == "/blob.png":
            self.reply(200, b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, "image/png")
        elif p == "/count":
            with lock:
                lines = "".join("%s %d %d\n" % (k[0], k[1], v) for k, v in sorted(counts.items()))
                lines += "hold-max %d\n" % hold["max"]
                lines += "".join("agent %s\n" % a for a in sorted(agents))
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(lines.encode())
        else:
            self.reply(404, b"no such page")


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    if len(sys.argv) > 1:
        with open(sys.argv[1] + ".tmp", "w") as f:
            f.write("%d\n" % port)
        import os
        os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    else:
        print(port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
