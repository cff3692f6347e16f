#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Self-test of the study's scripts, no kernel needed: report.py on made-up
# results (success rate, body-only classification, a module that leaves a
# changed function unpatched), fixes.txt well-formed with a patch and
# tests for every fix.  TAP output.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT INT TERM
n=0
fail=0
ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi
}

analysis() { # changed-functions data-changed
	printf '{"files": [{"path": "a/b.c", "object": "a/b.o", "functions": {"changed": [%s], "new": [], "removed": []}, "data": {"changed": [%s], "new": [], "removed": []}, "refusals": []}], "livepatchable": true}' "$1" "$2"
}
cat >"$T/fixes.list" <<'EOF'
good|net|a/b.c:all|vmlinux|-|-|a good fix
data|net|a/b.c:all|vmlinux|-|-|a data change
silent|mm|a/b.c:all|vmlinux|-|-|a module missing a function
fail|fs|a/b.c:all|vmlinux|-|-|a module that fails in the VM
EOF
for id in good silent fail; do echo 0 >"$T/$id.build.rc"; done
echo 6 >"$T/data.build.rc"
printf '{"status": "built", "refusals": [], "analysis": %s, "module": {"objects": [{"objname": "vmlinux", "functions": [{"old_name": "f", "sympos": 0}]}]}}' \
	"$(analysis '"f"' '')" >"$T/good.build.json"
printf '{"status": "refused", "refusals": [{"what": "tbl", "reason": "existing data changed"}], "analysis": %s}' \
	"$(analysis '' '"tbl"')" >"$T/data.build.json"
printf '{"status": "built", "refusals": [], "analysis": %s, "module": {"objects": [{"objname": "vmlinux", "functions": [{"old_name": "f", "sympos": 0}]}]}}' \
	"$(analysis '"f", "g"' '')" >"$T/silent.build.json"
cp "$T/good.build.json" "$T/fail.build.json"
echo '{"verdict": "ok", "reason": "", "accel": "tcg"}' >"$T/good.verify.json"
echo '{"verdict": "ok", "reason": "", "accel": "tcg"}' >"$T/silent.verify.json"
echo '{"verdict": "failed", "reason": "step '"'"'insmod'"'"' returned 1", "accel": "tcg"}' >"$T/fail.verify.json"

python3 "$HERE/report.py" "$T" "$HERE/tests" >"$T/out" 2>&1
ok $(( $? == 1 ? 0 : 1 )) "report.py exits 1 when a module leaves a changed function unpatched"
grep -q '^  silent: SILENT: changed function g is not redirected' "$T/out"
ok $? "the unpatched function is named"
grep -q 'changing only function bodies of .c files: 3; built, loaded, transitioned and passed their test: 2 (67%' "$T/out"
ok $? "success rate over body-only fixes: 2 of 3"
grep -q '^  data: tbl: existing data changed' "$T/out"
ok $? "the refusal reason is printed"
grep -q '^data  *net  *vmlinux  no  *refused' "$T/out"
ok $? "a data change is not body-only"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["silent"] == 1 and d["ok"] == 2 else 1)' "$T/results.json"
ok $? "results.json counts"

# fixes.txt: seven fields, an existing patch, existing tests.
bad=0
grep -v '^#' "$HERE/fixes.txt" | grep -v '^$' >"$T/list"
while IFS='|' read -r id area files target deps test title; do
	[ -n "$title" ] || { echo "# $id: too few fields"; bad=1; }
	[ -s "$HERE/patches/$id.patch" ] || { echo "# $id: no patch"; bad=1; }
	case $test in
	-) ;;
	*) [ -f "$HERE/tests/$test.sh" ] || { [ -f "$HERE/tests/$test.before" ] &&
		[ -f "$HERE/tests/$test.after" ]; } || { echo "# $id: no test '$test'"; bad=1; } ;;
	esac
done <"$T/list"
ok $bad "every fix has seven fields, a patch and its tests"
[ "$(wc -l <"$T/list")" -ge 10 ]
ok $? "at least 10 fixes"
echo "1..$n"
exit $fail
