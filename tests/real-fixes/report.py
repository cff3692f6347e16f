#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The table of the real-fixes study from run.sh's results directory.

usage: python3 report.py OUT TESTS_DIR

Per fix: what changed (from the analysis), the build (built, refused with
its reasons, failed), the VM verdict and the kind of test.  Then the success
rate over the fixes that change only function bodies of .c files, and the
count of modules that would leave a changed function unpatched (must be 0).
Writes OUT/results.json beside the table.
"""
import json
import os
import sys


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def body_only(analysis):
    """Only function bodies of .c files change (the aim's denominator)."""
    if not analysis or not analysis.get("files"):
        return False
    for f in analysis["files"]:
        if not f["path"].endswith(".c"):
            return False
        if f["functions"]["removed"] or f["data"]["changed"] or f["data"]["removed"]:
            return False
        if not f["functions"]["changed"] and not f["functions"]["new"]:
            return False
    return True


def test_kind(tests, test):
    if test == "-":
        return "load+transition"
    if os.path.exists(os.path.join(tests, test + ".before")):
        return "behaviour"
    return "smoke"


def main():
    out, tests = sys.argv[1], sys.argv[2]
    rows = []
    with open(os.path.join(out, "fixes.list")) as f:
        for line in f:
            id_, area, files, target, deps, test, title = line.rstrip("\n").split("|", 6)
            b = load(os.path.join(out, id_ + ".build.json"))
            an = load(os.path.join(out, id_ + ".analyse.json"))
            analysis = (b or {}).get("analysis") or an
            build_rc = read(os.path.join(out, id_ + ".build.rc"))
            v = load(os.path.join(out, id_ + ".verify.json"))
            row = {"id": id_, "area": area, "target": target, "title": title,
                   "test": test_kind(tests, test), "files": files}
            row["changed"] = sorted({fn for fl in (analysis or {}).get("files", [])
                                     for fn in fl["functions"]["changed"]})
            row["new"] = sorted({fn for fl in (analysis or {}).get("files", [])
                                 for fn in fl["functions"]["new"]})
            row["body_only"] = body_only(analysis)
            refusals = []
            if b:
                refusals = b.get("refusals", [])
            elif analysis:
                for fl in analysis.get("files", []):
                    refusals += fl.get("refusals", [])
            row["refusals"] = [r["what"] + ": " + r["reason"] for r in refusals]
            if build_rc is None:
                row["build"] = "not run"
            elif b and b.get("status") == "built" and build_rc == "0":
                row["build"] = "built"
            elif b and b.get("status") == "refused":
                row["build"] = "refused"
            else:
                row["build"] = "failed"
                err = read(os.path.join(out, id_ + ".build.err")) or ""
                row["refusals"].append("build failed: " + err.splitlines()[-1] if err else "")
            # A module that loads must redirect every changed function.
            row["silent"] = []
            if row["build"] == "built":
                patched = {fn["old_name"] for o in b["module"]["objects"]
                           for fn in o.get("functions", o.get("funcs", []))}
                # a .cold part is entered only from its function and travels
                # in the module with it: redirected when its function is
                row["silent"] = [fn for fn in row["changed"] if fn not in patched and
                                 not (fn.endswith(".cold") and fn[:-5] in patched)]
                row["build_s"] = read(os.path.join(out, id_ + ".build.s"))
            if v:
                row["verify"] = v["verdict"] + ("" if v["verdict"] == "ok"
                                                else " (" + v.get("reason", "") + ")")
                row["verify_s"] = read(os.path.join(out, id_ + ".verify.s"))
                row["accel"] = v.get("accel")
            else:
                row["verify"] = "not run"
            rows.append(row)

    fmt = "%-18s %-7s %-8s %-4s %-8s %-34s %s"
    print(fmt % ("fix", "area", "target", "body", "build", "verify", "test"))
    for r in rows:
        print(fmt % (r["id"], r["area"], r["target"][:8], "yes" if r["body_only"] else "no",
                     r["build"], r["verify"][:34], r["test"]))
    for r in rows:
        for why in r["refusals"]:
            print("  %s: %s" % (r["id"], why))
        for fn in r["silent"]:
            print("  %s: SILENT: changed function %s is not redirected" % (r["id"], fn))
    body = [r for r in rows if r["body_only"]]
    ok = [r for r in body if r["verify"] == "ok"]
    silent = [r for r in rows if r["silent"]]
    rate = 100.0 * len(ok) / len(body) if body else 0.0
    print("fixes: %d; changing only function bodies of .c files: %d; built, loaded, "
          "transitioned and passed their test: %d (%.0f%%, aim 70%%)"
          % (len(rows), len(body), len(ok), rate))
    print("modules leaving a changed function unpatched: %d (must be 0)" % len(silent))
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump({"fixes": rows, "body_only": len(body), "ok": len(ok), "rate": rate,
                   "silent": len(silent)}, f, indent=2)
    return 1 if silent else 0


if __name__ == "__main__":
    sys.exit(main())
