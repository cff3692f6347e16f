# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by the t06xx TUF client tests (sourced after lib.sh): repositories
# built by tuf-repo.py (signatures through tuf-helper, our signer API), one
# loopback HTTP server over $T/www that logs every request, and the client
# tuxtape-tuf-client driven through its conformance-suite CLI.
: "${TUF_CLIENT:?TUF_CLIENT must point at tuxtape-tuf-client}"
: "${TUF_HELPER:?TUF_HELPER must point at tuf-helper}"
export TUF_HELPER
_tufdir="$SOURCE_ROOT/tests/integration"
HTTP_LOG="$T/http.log"
# The system's interpreter when there is one: a version manager's shim costs
# more than the scripts, which run some hundred times here.
PY=$(command -v /usr/bin/python3 || command -v python3)

jget() {
	"$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"
}

start_server() {
	mkdir -p "$T/www"
	: >"$HTTP_LOG"
	PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	"$PY" "$_tufdir/tuf-serve.py" "$T/www" "$PORT" "$HTTP_LOG" >/dev/null 2>"$T/http.err" &
	_srv=$!
	trap 'kill $_srv 2>/dev/null; wait $_srv 2>/dev/null; cleanup' EXIT
	"$PY" - "$PORT" <<'EOF' && return 0
import socket, sys, time
for _ in range(100):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(1)
EOF
	echo "Bail out! the test HTTP server did not start"
	exit 1
}

# case_new NAME [tuf-repo.py init options]: a repository at $RD served under
# /NAME/, client metadata in $MD (initialised with 1.root.json), targets in $TD.
case_new() {
	CASE=$1
	shift
	RD=$T/www/$CASE
	MD=$T/$CASE-md
	TD=$T/$CASE-td
	MURL=http://127.0.0.1:$PORT/$CASE/repository/metadata/
	TURL=http://127.0.0.1:$PORT/$CASE/repository/targets/
	"$PY" "$_tufdir/tuf-repo.py" "$RD" init "$@" >/dev/null &&
		"$TUF_CLIENT" --metadata-dir "$MD" init "$RD/repository/metadata/1.root.json"
}

repo() {
	"$PY" "$_tufdir/tuf-repo.py" "$RD" "$@"
}

# The repository's published file (metadata/NAME).
pub() {
	printf '%s' "$RD/repository/metadata/$1"
}

tc() {
	"$TUF_CLIENT" --metadata-url "$MURL" --metadata-dir "$MD" "$@"
}

# dl NAME...: download targets
dl() {
	for _tn; do
		set -- "$@" --target-name "$_tn"
		shift
	done
	tc --target-dir "$TD" --target-base-url "$TURL" "$@" download
}

# A target file with given content: mkfile NAME CONTENT -> path
mkfile() {
	printf '%s' "$2" >"$T/$1"
	printf '%s' "$T/$1"
}

# Trusted metadata snapshot before an action, and the check that it is unchanged.
keep() {
	rm -rf "$T/kept"
	cp -a "$MD" "$T/kept"
}
kept_same() {
	diff -r "$T/kept" "$MD" >/dev/null
}
# kept_same_but FILE...: every trusted file but those is byte-identical.
kept_same_but() {
	_x=""
	for _f; do _x="$_x -x $_f"; done
	# shellcheck disable=SC2086
	diff -r $_x "$T/kept" "$MD" >/dev/null
}

ver() {
	jget "$MD/$1.json" 'd["signed"]["version"]'
}

# Requests made since the last mark(), as "PATH STATUS" relative to the repository.
mark() {
	_mark=$(wc -l <"$HTTP_LOG")
}
requests() {
	tail -n +$((_mark + 1)) "$HTTP_LOG" | sed "s|^/$CASE/repository/||"
}

# fails PATTERN CMD...: CMD exits 1 with PATTERN in its stderr.
fails() {
	_p=$1
	shift
	run 1 "$@" || return 1
	if ! grep -q -- "$_p" "$T/err"; then
		echo "# stderr lacks '$_p':" >&2
		sed 's/^/# stderr: /' "$T/err" >&2
		return 1
	fi
}

# refresh_fails PATTERN: a refresh fails with PATTERN and changes no trusted file.
refresh_fails() {
	keep
	fails "$1" tc refresh && kept_same
}
