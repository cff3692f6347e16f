#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs `meson test` in each build directory inside one throwaway PostgreSQL
# cluster (Debian's pg_virtualenv starts it on loopback and removes it),
# then prints the totals of all TAP test cases as "N passed, N failed".
# usage: run-tests.sh BUILD_DIR...
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
summary=$(mktemp)
trap 'rm -f "$summary"' EXIT

if command -v pg_virtualenv >/dev/null 2>&1; then
	pg_virtualenv -t sh "$root/tools/run-tests-inner.sh" "$summary" "$@"
	rc=$?
else
	echo "warning: pg_virtualenv not found; PostgreSQL tests will skip" >&2
	sh "$root/tools/run-tests-inner.sh" "$summary" "$@"
	rc=$?
fi
python3 "$root/tools/count-tests.py" --total "$summary"
frc=$?
[ "$rc" -eq 0 ] && [ "$frc" -eq 0 ]
