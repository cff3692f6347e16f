#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A small HTTP server on 127.0.0.1 for the enrichment tests.

feed-server.py PORTFILE LOGFILE DATA_DIR
Writes the port it listens on to PORTFILE.  Paths:
  /kev.json, /epss.csv.gz    the files of DATA_DIR (epss gzip'ed on the fly)
  /nvd?...                   the NVD envelope DATA_DIR/nvd/CVE-2024-53104.json
                             (page 0; later pages empty)
  /mode/403/..., /mode/503/...  always that status
Every request line and its apiKey header presence is appended to LOGFILE.
"""
import gzip
import http.server
import json
import os
import sys
import urllib.parse

portfile, logfile, data = sys.argv[1:4]


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def send(self, code, body, ctype="application/json"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        with open(logfile, "a") as f:
            f.write("%s apikey=%s\n" % (self.path, "apiKey" in self.headers))
        u = urllib.parse.urlparse(self.path)
        if u.path.startswith("/mode/403"):
            return self.send(403, b'{"message":"forbidden"}')
        if u.path.startswith("/mode/503"):
            return self.send(503, b"unavailable")
        if u.path == "/kev.json":
            with open(os.path.join(data, "kev/kev-kernel-subset.json"), "rb") as f:
                return self.send(200, f.read())
        if u.path == "/epss.csv.gz":
            with open(os.path.join(data, "epss/epss_scores-2026-09-29.EXCERPT.csv"), "rb") as f:
                return self.send(200, gzip.compress(f.read()), "application/gzip")
        if u.path == "/nvd":
            q = urllib.parse.parse_qs(u.query)
            with open(os.path.join(data, "nvd/CVE-2024-53104.json")) as f:
                env = json.load(f)
            start = int(q.get("startIndex", ["0"])[0])
            env["startIndex"] = start
            if start > 0:
                env["vulnerabilities"] = []
                env["resultsPerPage"] = 0
            return self.send(200, json.dumps(env).encode())
        return self.send(404, b"not found")


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
