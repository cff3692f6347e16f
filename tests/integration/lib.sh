# SPDX-License-Identifier: GPL-2.0-or-later
# Shared shell helpers for integration tests.  Each test script sources this,
# gets a private temporary directory ($T), a private data directory and, with
# TEST_BACKEND=postgresql, a fresh PostgreSQL database on the throwaway
# cluster `make check` started.  Output is TAP.
set -u

: "${TUXTAPE:?TUXTAPE must point at the tuxtape binary}"
: "${TEST_DATA_DIR:?}"
: "${SOURCE_ROOT:?}"
TEST_BACKEND=${TEST_BACKEND:-sqlite}

T=$(mktemp -d "${TMPDIR:-/tmp}/tuxtape-it.XXXXXX")
export HOME="$T/home" XDG_CONFIG_HOME="$T/home/.config" XDG_DATA_HOME="$T/home/.local/share"
mkdir -p "$HOME"
export TUXTAPE_CORE_DATA_DIR="$T/data"
unset TUXTAPE_CORE_DATABASE
_pgdb=
_n=0
_failed=0

cleanup() {
	if [ -n "$_pgdb" ]; then
		dropdb --if-exists "$_pgdb" >/dev/null 2>&1 || true
	fi
	[ -n "${TUXTAPE_TEST_KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

if [ "$TEST_BACKEND" = postgresql ]; then
	if [ -z "${TUXTAPE_TEST_PG_URL:-}" ]; then
		echo "1..0 # SKIP no PostgreSQL server for this run"
		exit 0
	fi
	_pgdb="tt_$(basename "$T" | tr -cd 'a-zA-Z0-9' | tr 'A-Z' 'a-z')"
	createdb "$_pgdb" || { echo "Bail out! createdb failed"; exit 1; }
	export TUXTAPE_CORE_DATABASE="postgresql:///$_pgdb"
fi

# ok CONDITION-EXIT-CODE DESCRIPTION
ok() {
	_n=$((_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $_n - $2"
	else
		echo "not ok $_n - $2"
		_failed=$((_failed + 1))
	fi
}

# run EXPECTED_EXIT CMD...: runs CMD, keeps stdout in $T/out and stderr in $T/err.
run() {
	_want=$1
	shift
	"$@" >"$T/out" 2>"$T/err"
	_got=$?
	if [ "$_got" -ne "$_want" ]; then
		echo "# '$*' exited $_got, expected $_want" >&2
		sed 's/^/# stderr: /' "$T/err" | head -20 >&2
		return 1
	fi
	return 0
}

tt() {
	"$TUXTAPE" "$@"
}

# A sample vulns repository with the real records, three commits.
make_sample_repo() {
	sh "$SOURCE_ROOT/tools/mk-sample-vulns.sh" "$TEST_DATA_DIR/cve-records" "$1" >/dev/null
}

# jq-free JSON field access: jget FILE EXPR (python expression on `d`)
jget() {
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"
}

done_testing() {
	echo "1..$_n"
	[ "$_failed" -eq 0 ]
}
