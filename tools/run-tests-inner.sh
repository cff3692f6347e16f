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
for b in "$@"; do
	echo "== meson test -C $b"
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	LSAN_OPTIONS=suppressions="$root/tools/lsan.supp":print_suppressions=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		meson test -C "$b" --print-errorlogs --num-processes 2 || rc=1
	python3 "$root/tools/count-tests.py" "$b/meson-logs/testlog.json" >>"$summary" || rc=1
done
exit $rc
