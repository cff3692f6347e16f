#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Counts TAP test cases in meson's testlog.json.

count-tests.py TESTLOG.json   prints "passed failed skipped" for one run
count-tests.py --total FILE   sums such lines and prints "N passed, N failed, N skipped"

A test program that crashed or timed out without reporting a failing case
counts as one failed case, so a crash can never read as a pass.
"""
import json
import re
import sys


def count(path):
    passed = failed = skipped = 0
    with open(path) as f:
        for line in f:
            t = json.loads(line)
            out = t.get("stdout") or ""
            p = f_ = s = 0
            for l in out.splitlines():
                if re.match(r"^ok \d+", l):
                    if re.search(r"#\s*skip", l, re.I):
                        s += 1
                    else:
                        p += 1
                elif re.match(r"^not ok \d+", l):
                    if re.search(r"#\s*todo", l, re.I):
                        s += 1
                    else:
                        f_ += 1
                elif re.match(r"^1\.\.0\b.*#\s*skip", l, re.I):
                    s += 1
            if t.get("result") not in ("OK", "SKIP", "EXPECTEDFAIL") and f_ == 0:
                f_ = 1
            if t.get("result") == "SKIP" and p + f_ + s == 0:
                s = 1
            passed += p
            failed += f_
            skipped += s
    print(passed, failed, skipped)


def total(path):
    p = f = s = 0
    with open(path) as fh:
        for line in fh:
            a, b, c = (int(x) for x in line.split())
            p, f, s = p + a, f + b, s + c
    print(f"{p} passed, {f} failed, {s} skipped")
    return 1 if f else 0


if __name__ == "__main__":
    if sys.argv[1] == "--total":
        sys.exit(total(sys.argv[2]))
    count(sys.argv[1])
