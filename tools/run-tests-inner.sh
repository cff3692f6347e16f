#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Inner half of run-tests.sh, run with the PG* variables of the test cluster.
# usage: run-tests-inner.sh SUMMARY_FILE BUILD_DIR...
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
summary=$1
shift
rc=0
if [ -n "${PGHOST:-}" ] || [ -n "${PGPORT:-}" ]; then
	export TUXTAPE_TEST_PG_URL="postgresql://"
fi
# VM tests of both build directories share one prepared Debian kernel (its
# source, prepared tree and captured symbol table take minutes to make).
export TUXTAPE_VM_CACHE="${TUXTAPE_VM_CACHE:-$root/.vm-cache}"
for b in "$@"; do
	echo "== meson test -C $b"
	# Under the sanitizers the generator's VM cases run as a sample: the
	# kernel builds they wait on are the same, only our code is checked.
	cases=
	sanitized=
	if python3 -c 'import json,sys; o={x["name"]:x["value"] for x in json.load(open(sys.argv[1]))}; sys.exit(0 if "address" in str(o.get("b_sanitize")) else 1)' "$b/meson-info/intro-buildoptions.json" 2>/dev/null; then
		cases=${TUXTAPE_ASAN_CASES:-01 13}
		# the VM tests of whole flows (t0340, t0710) run in the plain build only
		sanitized=1
	fi
	TUXTAPE_SANITIZED=$sanitized \
	TUXTAPE_TEST_CASES=${TUXTAPE_TEST_CASES:-$cases} \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	LSAN_OPTIONS=suppressions="$root/tools/lsan.supp":print_suppressions=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		meson test -C "$b" --print-errorlogs --num-processes 2 || rc=1
	python3 "$root/tools/count-tests.py" "$b/meson-logs/testlog.json" >>"$summary" || rc=1
done
exit $rc
