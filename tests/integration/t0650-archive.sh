#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# tuxtape archive: init, add (modules built with gcc and objcopy), list,
# publish, revoke, remove, then what a node sees: tuxtape-tuf-client
# refreshing and downloading through real loopback HTTP from `archive
# serve`; the server's answers (headers, methods, paths that escape, TLS).
. "$SOURCE_ROOT/tests/integration/lib.sh"
: "${TUF_CLIENT:?TUF_CLIENT must point at tuxtape-tuf-client}"

R=6.1.0-54-amd64
A=$T/archive
printf 'archive test passphrase\n' >"$T/pass"
_srv=
trap '[ -z "$_srv" ] || { kill $_srv 2>/dev/null; wait $_srv 2>/dev/null; }; cleanup' EXIT

# mkmod OUT NAME VERMAGIC_RELEASE LIVEPATCH(0|1) SALT: an ELF relocatable with a .modinfo
mkmod() {
	printf 'int tt_%s_%s;\n' "$2" "$5" | tr -c 'a-zA-Z0-9_;\n ' _ >"$T/m.c" &&
		gcc -c -o "$T/m.o" "$T/m.c" &&
		{
			printf 'license=GPL\0name=%s\0' "$2"
			[ -z "$3" ] || printf 'vermagic=%s SMP preempt mod_unload modversions \0' "$3"
			[ "$4" = 0 ] || printf 'livepatch=Y\0'
			printf 'srcversion=%s\0' "$5"
		} >"$T/modinfo.bin" &&
		objcopy --add-section .modinfo="$T/modinfo.bin" --set-section-flags .modinfo=alloc,readonly \
			"$T/m.o" "$1"
}

arc() {
	"$TUXTAPE" archive "$@"
}

# serve_start [OPTIONS]: `archive serve` on a free port; URL in $URL
serve_start() {
	"$TUXTAPE" archive serve --archive "$A" --listen 127.0.0.1:0 --json "$@" >"$T/serve.json" 2>"$T/serve.err" &
	_srv=$!
	for _i in $(seq 100); do
		[ -s "$T/serve.json" ] && break
		sleep 0.05
	done
	URL=$(jget "$T/serve.json" 'd["url"]')
	[ -n "$URL" ]
}

serve_stop() {
	kill "$_srv" && wait "$_srv"
	_rc=$?
	_srv=
	return $_rc
}

MD=$T/node-meta
TD=$T/node-targets
tc() {
	"$TUF_CLIENT" --metadata-url "${URL}metadata/" --metadata-dir "$MD" "$@"
}
dl() {
	tc --target-name "$1" --target-dir "$TD" --target-base-url "${URL}targets/" download
}

mkmod "$T/lp1.ko" livepatch_net $R 1 one && mkmod "$T/lp2.ko" livepatch_net $R 1 two &&
	mkmod "$T/lp3.ko" livepatch_fs 6.1.0-53-amd64 1 three &&
	mkmod "$T/lp4.ko" livepatch_tcp $R 1 four && mkmod "$T/lp5.ko" livepatch_udp $R 1 five
ok $? "gcc and objcopy make test modules"

# --- init --------------------------------------------------------------------------
run 0 arc init "$A" --passphrase-file "$T/pass" --json &&
	[ "$(jget "$T/out" '(d["root_version"], d["root"].endswith("/repository/metadata/1.root.json"))')" = "(1, True)" ]
ok $? "init --json: the first root"
for f in 1.root.json root.json 1.targets.json 1.snapshot.json timestamp.json; do
	[ -f "$A/repository/metadata/$f" ] || break
done
ok $? "init writes 1.root.json, root.json, targets, snapshot, timestamp"
[ "$(jget "$A/repository/metadata/1.root.json" '(d["signed"]["consistent_snapshot"], sorted(d["signed"]["roles"]), d["signed"]["expires"] > "2026")')" = "(True, ['root', 'snapshot', 'targets', 'timestamp'], True)" ]
ok $? "root: consistent snapshots, four roles"
grep -l "ENCRYPTED PRIVATE KEY" "$A"/keys/offline/*.pem | wc -l | grep -qx 2 &&
	[ "$(stat -c %a "$A"/keys/online/*.pem | sort -u)" = 600 ]
ok $? "offline keys encrypted, online keys mode 0600"

# --- add, list, publish ------------------------------------------------------------
run 0 arc add --archive "$A" "$T/lp1.ko" --cve CVE-2024-50001 --cve CVE-2024-50002 --json &&
	[ "$(jget "$T/out" '(d["path"], d["role"], d["custom"]["patch_version"], d["custom"]["cves"])')" = "('$R/livepatch_net-1.ko', '$R', 1, ['CVE-2024-50001', 'CVE-2024-50002'])" ]
ok $? "add: the release from vermagic, patch_version 1"
run 0 arc add --archive "$A" "$T/lp2.ko" --min-agent-version 0.2.0 --build-id 00ff &&
	grep -q "staged '$R/livepatch_net-2.ko'" "$T/out"
ok $? "add: the next version of the module is 2"
run 0 arc list --archive "$A" --json &&
	[ "$(jget "$T/out" '[(e["path"], e["published"], e["custom"]["replaces"]) for e in d]')" = "[('$R/livepatch_net-1.ko', False, None), ('$R/livepatch_net-2.ko', False, '$R/livepatch_net-1.ko')]" ]
ok $? "list: staged, not published; version 2 replaces version 1"
run 0 arc list --archive "$A" && grep -q "livepatch_net-1.ko .*pending .*CVE-2024-50001,CVE-2024-50002" "$T/out"
ok $? "list: human output"
run 0 arc publish --archive "$A" --passphrase-file "$T/pass" --json &&
	[ "$(jget "$T/out" '(d["changed"], d["timestamp_version"], d["snapshot_version"], d["targets_version"], d["targets_written"], d["roles"])')" = "(True, 2, 2, 2, True, ['$R'])" ]
ok $? "publish: role, targets with the new delegation, snapshot, timestamp"
[ "$(jget "$A/repository/metadata/2.targets.json" 'd["signed"]["delegations"]["roles"]')" = "[{'keyids': $(jget "$A/repository/metadata/2.targets.json" 'd["signed"]["delegations"]["roles"][0]["keyids"]'), 'name': '$R', 'paths': ['$R/*'], 'terminating': True, 'threshold': 1}]" ]
ok $? "the delegation: role = release, paths RELEASE/*, terminating"
sha=$(sha256sum "$T/lp1.ko" | cut -c1-64)
cmp -s "$T/lp1.ko" "$A/repository/targets/$R/$sha.livepatch_net-1.ko"
ok $? "targets are stored under hash-prefixed names"
run 0 arc publish --archive "$A" && grep -q "nothing to do" "$T/out"
ok $? "publish with nothing staged: nothing to do"
run 0 arc list --archive "$A" --kernel $R --json && [ "$(jget "$T/out" '[e["published"] for e in d]')" = "[True, True]" ]
ok $? "list --kernel: published"

# --- a node over HTTP ----------------------------------------------------------------
serve_start; ok $? "serve --json prints the URL"
run 0 "$TUF_CLIENT" --metadata-dir "$MD" init "$A/repository/metadata/1.root.json" && run 0 tc refresh
ok $? "tuxtape-tuf-client: init with 1.root.json and refresh over HTTP"
run 0 dl "$R/livepatch_net-2.ko" && cmp -s "$TD/$R/livepatch_net-2.ko" "$T/lp2.ko"
ok $? "the client downloads a module, verified, byte for byte"
[ "$(jget "$MD/$R.json" 'sorted(d["signed"]["targets"]["'$R'/livepatch_net-2.ko"]["custom"].items())')" = "$(python3 -c "print(sorted({'build_id': '00ff', 'channels': ['stable'], 'created': '$(jget "$MD/$R.json" 'd["signed"]["targets"]["'$R'/livepatch_net-2.ko"]["custom"]["created"]')', 'cves': [], 'kernel_release': '$R', 'min_agent_version': '0.2.0', 'module_name': 'livepatch_net', 'patch_version': 2, 'replace': True, 'replaces': '$R/livepatch_net-1.ko', 'revoked': False, 'revoked_reason': None}.items()))")" ]
ok $? "the node's trusted role holds every custom field of the contract"

curl -s -D "$T/h" -o "$T/b" "${URL}metadata/timestamp.json" && grep -qi '^Cache-Control: public, max-age=60' "$T/h" &&
	grep -qi "^Content-Length: $(stat -c %s "$A/repository/metadata/timestamp.json")" "$T/h" &&
	cmp -s "$T/b" "$A/repository/metadata/timestamp.json"
ok $? "timestamp.json: short Cache-Control, Content-Length, the exact bytes"
curl -s -D "$T/h" -o /dev/null "${URL}metadata/2.snapshot.json" && grep -qi '^Cache-Control: .*immutable' "$T/h" &&
	curl -s -D "$T/h" -o /dev/null "${URL}targets/$R/$sha.livepatch_net-1.ko" &&
	grep -qi '^Cache-Control: .*immutable' "$T/h"
ok $? "versioned metadata and hash-prefixed targets: immutable"
curl -sI -o "$T/h" "${URL}metadata/1.root.json" && grep -qi "^Content-Length: $(stat -c %s "$A/repository/metadata/1.root.json")" "$T/h" &&
	grep -q '^HTTP/1.1 200' "$T/h"
ok $? "HEAD: Content-Length without a body"
code() {
	curl -s -o /dev/null -w '%{http_code}' --path-as-is "$@"
}
[ "$(code -X POST "${URL}metadata/timestamp.json")" = 405 ] &&
	[ "$(code -X PUT --data x "${URL}metadata/timestamp.json")" = 405 ] &&
	[ "$(code -X DELETE "${URL}metadata/timestamp.json")" = 405 ]
ok $? "POST, PUT, DELETE: 405"
[ "$(code "${URL}metadata/../../archive.json")" = 400 ] &&
	[ "$(code "${URL}metadata/%2e%2e/%2e%2e/archive.json")" = 400 ] &&
	[ "$(code "${URL}metadata/%2E%2E%2farchive.json")" = 400 ] &&
	[ "$(code "${URL}%2e%2e/archive.json")" = 400 ] &&
	[ "$(code "${URL}metadata/%252e%252e/x")" = 400 ] &&
	[ "$(code "${URL}metadata/x%00.json")" = 400 ]
ok $? "paths that leave the repository, encoded or not: 400"
[ "$(code "${URL}")" = 404 ] && [ "$(code "${URL}metadata")" = 404 ] &&
	[ "$(code "${URL}metadata/")" = 404 ] && [ "$(code "${URL}metadata/99.snapshot.json")" = 404 ]
ok $? "directories are not listed, missing files: 404"
ln -s "$A/archive.json" "$A/repository/metadata/link.json"
[ "$(code "${URL}metadata/link.json")" = 404 ]; ok $? "symbolic links are not followed"
rm -f "$A/repository/metadata/link.json"

# --- revoke and remove reach the node ---------------------------------------------------
run 0 arc revoke --archive "$A" "$R/livepatch_net-1.ko" --reason "oops in tcp_v4_rcv" &&
	run 0 arc publish --archive "$A" --json && [ "$(jget "$T/out" '(d["targets_written"], d["roles"])')" = "(False, ['$R'])" ]
ok $? "revoke, publish: only the kernel role (no offline key needed)"
run 0 dl "$R/livepatch_net-1.ko" && [ "$(jget "$MD/$R.json" '[(t["custom"]["revoked"], t["custom"]["revoked_reason"]) for p, t in sorted(d["signed"]["targets"].items())]')" = "[(True, 'oops in tcp_v4_rcv'), (False, None)]" ]
ok $? "the node sees the revocation and its reason"
run 1 arc revoke --archive "$A" "$R/livepatch_net-1.ko" --reason again && grep -q "already revoked" "$T/err"
ok $? "revoking twice: exit 1"
run 0 arc remove --archive "$A" "$R/livepatch_net-2.ko" && run 0 arc publish --archive "$A" &&
	run 0 tc refresh
ok $? "remove, publish, refresh"
run 1 dl "$R/livepatch_net-2.ko"; ok $? "a removed target is no longer offered"
# Versions grow per release across module names; a removed one is never reused,
# and a new cumulative module replaces the release's newest, whatever its name.
run 0 arc add --archive "$A" "$T/lp4.ko" --json &&
	[ "$(jget "$T/out" '(d["path"], d["custom"]["patch_version"])')" = "('$R/livepatch_tcp-3.ko', 3)" ] &&
	run 0 arc add --archive "$A" "$T/lp5.ko" --json &&
	[ "$(jget "$T/out" '(d["path"], d["custom"]["patch_version"], d["custom"]["replaces"])')" = "('$R/livepatch_udp-4.ko', 4, '$R/livepatch_tcp-3.ko')" ]
ok $? "add: patch versions per release, across module names"
run 0 arc remove --archive "$A" "$R/livepatch_udp-4.ko" && run 0 arc remove --archive "$A" "$R/livepatch_tcp-3.ko"
ok $? "remove staged targets"

# --- two kernels: one role each ---------------------------------------------------------
run 0 arc add --archive "$A" "$T/lp3.ko" && run 0 arc publish --archive "$A" --passphrase-file "$T/pass" &&
	run 0 dl "6.1.0-53-amd64/livepatch_fs-1.ko" && [ -f "$MD/6.1.0-53-amd64.json" ]
ok $? "a second kernel gets its own delegated role"
run 1 dl "6.1.0-53-amd64/livepatch_net-1.ko"; ok $? "a path of one kernel is not found in another's role"
serve_stop; ok $? "serve stops on SIGTERM with exit 0"

# --- TLS -----------------------------------------------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
	-keyout "$T/tls.key" -out "$T/tls.crt" >/dev/null 2>&1
serve_start --tls-cert "$T/tls.crt" --tls-key "$T/tls.key" && case "$URL" in https://*) : ;; *) false ;; esac &&
	curl -s --cacert "$T/tls.crt" -o "$T/b" "${URL}metadata/timestamp.json" &&
	cmp -s "$T/b" "$A/repository/metadata/timestamp.json"
ok $? "serve --tls-cert/--tls-key: HTTPS"
serve_stop
run 2 arc serve --archive "$A" --tls-cert "$T/tls.crt"; ok $? "--tls-cert without --tls-key: usage"
run 1 arc serve --archive "$A" --listen 127.0.0.1:0 --tls-cert "$T/tls.key" --tls-key "$T/tls.crt" &&
	grep -q "cannot listen" "$T/err"
ok $? "a certificate that is no certificate: exit 1"
run 2 arc serve --archive "$A" --listen nowhere; ok $? "a bad listen address: usage"

# --- where the archive is ---------------------------------------------------------------
run 0 env TUXTAPE_ARCHIVE_DIR="$A" "$TUXTAPE" archive list --json && [ "$(jget "$T/out" 'len(d)')" = 2 ]
ok $? "the config key [archive] dir (here from the environment) names the archive"
printf '[archive]\ndir = %s\n' "$A" >"$T/tt.conf"
run 0 tt -c "$T/tt.conf" archive list --kernel $R --json && [ "$(jget "$T/out" 'len(d)')" = 1 ]
ok $? "[archive] dir from a config file"
run 0 arc init --passphrase-file "$T/pass" && [ -f "$TUXTAPE_CORE_DATA_DIR/archive/archive.json" ] &&
	run 0 arc list && grep -q "no targets staged" "$T/out"
ok $? "without either: DATA_DIR/archive"

# --- help ------------------------------------------------------------------------------
run 0 arc --help && grep -q "publish" "$T/out"; ok $? "archive --help lists the verbs"
for v in init add remove revoke promote list publish refresh rotate serve; do
	run 0 arc $v --help && grep -q "usage: tuxtape archive $v" "$T/out" && grep -q "Exit codes" "$T/out" || break
done
ok $? "every verb has --help with its exit codes"
run 2 arc frobnicate; ok $? "unknown verb: usage (2)"

done_testing
