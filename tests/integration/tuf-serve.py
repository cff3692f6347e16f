#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Static HTTP server of the t06xx TUF tests: serves DIR on 127.0.0.1:PORT,
taking request paths literally first (TUF repositories hold files whose
names are percent-encoded role names, such as "..%2Fx.json", which
http.server would decode), then percent-decoded (target names), and appends
"PATH STATUS" for every request to LOG.

usage: tuf-serve.py DIR PORT LOG
"""
import http.server
import os
import sys
import urllib.parse

ROOT, PORT, LOG = sys.argv[1], int(sys.argv[2]), sys.argv[3]


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        status, data = 404, b"not found\n"
        # The literal name first (quoted role names), then the decoded one.
        for name in (path, urllib.parse.unquote(path)):
            parts = name.split("/")
            if ".." in parts or "." in parts:
                continue
            f = os.path.join(ROOT, *[p for p in parts if p])
            if os.path.isfile(f):
                with open(f, "rb") as fh:
                    status, data = 200, fh.read()
                break
        with open(LOG, "a") as log:
            log.write("%s %d\n" % (self.path, status))
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
