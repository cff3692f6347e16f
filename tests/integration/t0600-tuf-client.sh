#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# tuxtape-tuf-client over loopback HTTP with repositories built by
# tuf-repo.py (signed with our signer API): the conformance CLI, the
# requests a refresh makes, exact trusted bytes, target download (hash
# prefixes, cache, hashes, lengths), delegations (order, terminating,
# cycles, paths, hash prefixes, thresholds), quoted role names and the
# key types.  Attacks on the metadata are in t0601.
. "$SOURCE_ROOT/tests/integration/lib.sh"
. "$SOURCE_ROOT/tests/integration/tuf-lib.sh"
start_server

# --- the CLI ------------------------------------------------------------------
run 0 "$TUF_CLIENT" --help && grep -q "init TRUSTED_ROOT" "$T/out"; ok $? "--help"
run 2 "$TUF_CLIENT" --metadata-dir "$T/x" && grep -q "no command" "$T/err"
ok $? "no command: usage error (exit 2)"
run 2 "$TUF_CLIENT" --metadata-dir "$T/x" frobnicate; ok $? "unknown command: exit 2"
run 2 "$TUF_CLIENT" --metadata-dir "$T/x" --metadata-url http://x/ download
ok $? "download without --target-name: exit 2"

case_new basic; ok $? "init with the repository's 1.root.json"
cmp -s "$MD/root.json" "$(pub 1.root.json)"; ok $? "init stores the exact bytes as root.json"

mark
run 0 tc refresh && [ "$(requests)" = "metadata/2.root.json 404
metadata/timestamp.json 200
metadata/1.snapshot.json 200
metadata/1.targets.json 200" ]
ok $? "first refresh: 2.root.json (404), timestamp, 1.snapshot, 1.targets"
cmp -s "$MD/timestamp.json" "$(pub timestamp.json)" && cmp -s "$MD/snapshot.json" "$(pub 1.snapshot.json)" &&
	cmp -s "$MD/targets.json" "$(pub 1.targets.json)" && [ ! -e "$MD/1.snapshot.json" ]
ok $? "trusted files hold the exact bytes received, under unversioned names"

keep
mark
run 0 tc refresh && [ "$(requests)" = "metadata/2.root.json 404
metadata/timestamp.json 200" ] && kept_same
ok $? "nothing new: only the root probe and timestamp.json are requested, nothing rewritten"

run 1 "$TUF_CLIENT" --metadata-url "$MURL" --metadata-dir "$T/none" refresh &&
	grep -q "cannot read the trusted root" "$T/err"
ok $? "refresh without init fails"

# --- downloads ------------------------------------------------------------------
repo target targets "kernels/6.1/lp-1.ko" "$(mkfile lp1 'module one')" &&
	repo target targets "both.txt" "$(mkfile both 'two hashes')" --hashes sha256,sha512 &&
	repo target targets "md5only.txt" "$(mkfile md5only 'md5 only')" --hashes md5 &&
	repo publish targets + snapshot
ok $? "the repository adds targets (targets v2)"
mark
run 0 dl kernels/6.1/lp-1.ko && [ "$(cat "$TD/kernels/6.1/lp-1.ko")" = "module one" ] &&
	requests | grep -q "^targets/kernels/6.1/$(sha256sum "$T/lp1" | cut -c1-64).lp-1.ko 200$"
ok $? "download: the hash-prefixed name is requested, the plain path stored"
[ "$(find "$TD" -type f | wc -l)" = 1 ]; ok $? "no temporary or extra file is left in the target dir"
mark
run 0 dl kernels/6.1/lp-1.ko && ! requests | grep -q "^targets/"
ok $? "a cached target that still verifies is not downloaded again"
printf 'tampered' >"$TD/kernels/6.1/lp-1.ko"
mark
run 0 dl kernels/6.1/lp-1.ko && [ "$(cat "$TD/kernels/6.1/lp-1.ko")" = "module one" ] &&
	requests | grep -q "^targets/kernels/6.1/.*lp-1.ko 200$"
ok $? "a cached copy that no longer verifies is fetched again"
run 0 dl both.txt && [ "$(cat "$TD/both.txt")" = "two hashes" ]; ok $? "sha256 and sha512 both checked"
mark
fails "no supported hash" dl md5only.txt && [ ! -e "$TD/md5only.txt" ] && ! requests | grep -q "^targets/"
ok $? "a target with only unknown hash algorithms is refused before any download"
fails "target 'nothere' not found" dl nothere; ok $? "a target no role lists: exit 1"
u8=$(printf 'dir/f \303\251 x.txt')
repo target targets "$u8" "$(mkfile utf 'utf8 name')" && repo publish targets + snapshot &&
	mark && run 0 dl "$u8" && [ "$(cat "$TD/$u8")" = "utf8 name" ] &&
	requests | grep -q "^targets/dir/[0-9a-f]*\.f%20%C3%A9%20x\.txt 200$"
ok $? "a target path with a space and UTF-8 is percent-encoded in the URL"

for f in "$RD"/repository/targets/*.both.txt; do printf 'two hashez' >"$f"; done
rm -f "$TD/both.txt"
fails "mismatch" dl both.txt && [ ! -e "$TD/both.txt" ]; ok $? "served target with a wrong hash: refused, not stored"
for f in "$RD"/repository/targets/*.both.txt; do printf 'two hashes and then some endless data' >"$f"; done
fails "larger than 10 bytes" dl both.txt && [ ! -e "$TD/both.txt" ]
ok $? "served target longer than its length: refused after length bytes"
for f in "$RD"/repository/targets/*.both.txt; do printf 'two' >"$f"; done
fails "3 bytes, expected 10" dl both.txt && [ ! -e "$TD/both.txt" ]; ok $? "truncated target: refused"

# a repository without consistent snapshots
case_new plain --plain && repo target targets "a/b.txt" "$(mkfile ab 'plain b')" &&
	repo publish targets + snapshot
mark
run 0 dl a/b.txt && [ "$(requests)" = "metadata/2.root.json 404
metadata/timestamp.json 200
metadata/snapshot.json 200
metadata/targets.json 200
targets/a/b.txt 200" ] && [ "$(cat "$TD/a/b.txt")" = "plain b" ]
ok $? "consistent_snapshot false: unversioned metadata and plain target names"

# --- delegations ------------------------------------------------------------------
# visited TARGET: delegated roles requested while looking for TARGET
visited() {
	mark
	dl "$1" >/dev/null 2>&1
	requests | sed -n 's|^metadata/1\.\(.*\)\.json 200$|\1|p' | grep -v '^\(snapshot\|targets\)$' | tr '\n' ' '
}
# deleg CASE "FROM NAME [OPTIONS]"...: a new repository with these delegations
deleg() {
	case_new "$1" && shift && for d in "$@"; do
		set -f
		# shellcheck disable=SC2086
		repo delegate $d || { set +f; return 1; }
		set +f
	done
}
publish_all() {
	repo publish @targets + snapshot
}

deleg dfs "targets A" "targets B" "A C" "A D" && publish_all && [ "$(visited missing)" = "A C D B " ]
ok $? "pre-order depth-first search: A C D B"
deleg term "targets A" "targets B" "A C --terminating" "A D" && publish_all && [ "$(visited missing)" = "A C " ]
ok $? "a terminating delegation ends the search: A C"
deleg term3 "targets A" "targets B" "A C --terminating" "C D" && publish_all && [ "$(visited missing)" = "A C D " ]
ok $? "below a terminating role the search goes on: A C D"
deleg cycle "targets A" "targets B" "B C" "C D" "D B" && publish_all && [ "$(visited missing)" = "A B C D " ]
ok $? "a cycle B -> C -> D -> B is visited once"
deleg paths "targets A --paths *.py" "targets B" "A C" && publish_all && [ "$(visited missing)" = "B " ]
ok $? "a role whose paths do not match is not fetched"
deleg diamond "targets A" "targets B" "B C" "A C" && publish_all && [ "$(visited missing)" = "A C B " ]
ok $? "two roles delegating to a third: fetched once"

deleg tree "targets A --paths *.doc,*.md" "targets B --paths releases/*/*" \
	"B C --paths releases/x/*" "B D --paths releases/y/*.zip" &&
	repo target A README.md "$(mkfile readme 'README by A')" &&
	repo target C releases/x/x_v1 "$(mkfile xv1 'x by C')" &&
	repo target D releases/y/y_v1.zip "$(mkfile yv1 'y by D')" &&
	repo target D releases/z/z_v1.zip "$(mkfile zv1 'z by D')" && publish_all
ok $? "a delegation tree with path patterns"
[ "$(visited README.md)" = "A " ] && [ "$(cat "$TD/README.md")" = "README by A" ]; ok $? "*.md matches README.md in A"
[ "$(visited releases/x/x_v1)" = "B C " ] && [ -f "$TD/releases/x/x_v1" ]; ok $? "releases/x/x_v1 through B and C"
[ "$(visited releases/z/z_v1.zip)" = "" ] && [ ! -e "$TD/releases/z/z_v1.zip" ] && [ ! -e "$MD/D.json" ]
ok $? "a path D lists but the chain does not delegate to D: not found, D not fetched"
deleg star "targets A --paths *" && repo target A dir/file "$(mkfile df 'deep')" && publish_all &&
	fails "not found" dl dir/file
ok $? "'*' does not match '/'"
deleg prefix "targets H --prefixes $(printf 'bin/x' | sha256sum | cut -c1-2)" &&
	repo target H bin/x "$(mkfile binx 'hashed bin')" && publish_all && run 0 dl bin/x &&
	[ "$(cat "$TD/bin/x")" = "hashed bin" ]
ok $? "path_hash_prefixes delegation"
deleg thresh "targets T2 --threshold 2" && repo target T2 t2.txt "$(mkfile t2 't2')" && publish_all &&
	fails "1 valid signature of the 2 required by role 'T2'" dl t2.txt && [ ! -e "$MD/T2.json" ]
ok $? "a delegated role below its threshold is refused and not stored"
repo key T2 >/dev/null && publish_all && run 0 dl t2.txt; ok $? "with a second key it is accepted"

# --- role names are URL-quoted with no safe characters ------------------------------
for name in '?' '#' '/x' '../x' 'a b'; do
	q=$("$PY" -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$name")
	c=q$(printf '%s' "$q" | tr -c 'a-zA-Z0-9' _)
	case_new "$c" && repo delegate targets "$name" && publish_all && mark && fails "not found" dl missing &&
		requests | grep -qx "metadata/1.$q.json 200" && [ -f "$MD/$q.json" ] &&
		[ "$(ls -A "$MD" | wc -l)" = 5 ] && [ ! -e "$T/x.json" ] && [ ! -e "$T/$c-x.json" ]
	ok $? "role name '$name': requested and stored as '$q.json', nothing outside the metadata dir"
done

# --- key types and signers ------------------------------------------------------------
for s in ed25519 rsassa-pss-sha256 rsa-pkcs1v15-sha256; do
	case_new "keys-$s" --scheme "$s" && run 0 tc refresh && [ "$(ver timestamp)" = 1 ]
	ok $? "a repository of $s keys"
done
case_new signers && k1=$(repo key root --passphrase 'pass phrase') && k2=$(repo key root --command) &&
	repo set root roles/root/threshold=3 + publish root && run 0 tc refresh && [ "$(ver root)" = 2 ] &&
	[ "$(jget "$MD/root.json" 'sorted(s["keyid"] for s in d["signatures"])')" = \
		"$("$PY" -c 'import sys; print(sorted(sys.argv[1:]))' "$k1" "$k2" \
		"$(jget "$RD/state.json" 'd["roles"]["root"]["signers"][0]')")" ]
ok $? "root v2 signed by a plain, an encrypted (PKCS#8) and an external-command key, threshold 3"

done_testing
