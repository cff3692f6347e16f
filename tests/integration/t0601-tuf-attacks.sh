#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# tuxtape-tuf-client against hostile repositories: root rotation (chains,
# threshold changes, rotations signed by only the old or only the new keys,
# version mismatches), freeze (expired root, timestamp, snapshot, targets),
# rollback of timestamp, snapshot and targets versions, fast-forward
# recovery after key rotation, mix-and-match, endless data, truncated and
# mistyped files, missing roles, duplicate signatures and keyids, bad
# signatures.  After every failed refresh the trusted files are compared
# byte for byte with those before it: unchanged, except what the spec
# orders persisted before the failing step (named in each case).
. "$SOURCE_ROOT/tests/integration/lib.sh"
. "$SOURCE_ROOT/tests/integration/tuf-lib.sh"
start_server

# A new repository and a client that trusts its first state.
fresh() {
	case_new "$@" && run 0 tc refresh
}
# pyedit FILE EXPR: rewrites the JSON document FILE with EXPR applied to `d`.
pyedit() {
	"$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
exec(sys.argv[2])
open(sys.argv[1], "w").write(json.dumps(d))' "$1" "$2"
}

# --- root rotation ----------------------------------------------------------------
fresh rot && repo key root >/dev/null && repo set root roles/root/threshold=2 + publish root &&
	run 0 tc refresh && [ "$(ver root)" = 2 ] && cmp -s "$MD/root.json" "$(pub 2.root.json)"
ok $? "root 1 -> 2: a second root key and threshold 2"
repo rotate root + publish root && run 0 tc refresh && [ "$(ver root)" = 3 ] &&
	cmp -s "$MD/root.json" "$(pub 3.root.json)"
ok $? "root 2 -> 3: both root keys replaced, signed by the old and the new ones"

fresh chain && repo publish root + rotate root + publish root + publish root &&
	mark && run 0 tc refresh && [ "$(ver root)" = 4 ] && [ "$(requests | head -5)" = "metadata/2.root.json 200
metadata/3.root.json 200
metadata/4.root.json 200
metadata/5.root.json 404
metadata/timestamp.json 200" ]
ok $? "a chain 1 -> 4 in one refresh, ended by the 404 of 5.root.json"

fresh oldonly && repo rotate root + publish root --root-signers old &&
	refresh_fails "root: 0 valid signatures of the 1 required by role 'root' (root version 2)" &&
	[ "$(ver root)" = 1 ]
ok $? "a new root signed only by the old keys is refused"
fresh newonly && repo rotate root + publish root --root-signers new &&
	refresh_fails "0 valid signatures of the 1 required by role 'root' (root version 1)"
ok $? "a new root signed only by the new keys is refused"
fresh rootver && repo set root version=2 + publish root && mv "$(pub 3.root.json)" "$(pub 2.root.json)" &&
	refresh_fails "2.root.json': version 3, expected 2"
ok $? "2.root.json holding version 3 is refused"
fresh roottype && cp "$(pub 1.snapshot.json)" "$(pub 2.root.json)" && refresh_fails "_type: 'snapshot', expected 'root'"
ok $? "2.root.json that is another role's file is refused"
fresh rootbig && head -c 600000 /dev/zero | tr '\0' ' ' >"$(pub 2.root.json)" &&
	refresh_fails "2.root.json': larger than 512000 bytes"
ok $? "an endless 2.root.json is cut at 512000 bytes"

# root v2 raises the snapshot threshold above its keys: v2 is trusted, the new snapshot not
fresh snapthr && repo set root roles/snapshot/threshold=2 + publish root + snapshot &&
	keep && fails "1 valid signature of the 2 required by role 'snapshot'" tc refresh &&
	[ "$(ver root)" = 2 ] && [ "$(ver snapshot)" = 1 ] && kept_same_but root.json timestamp.json
ok $? "threshold raised above the signers: root v2 kept (spec 5.3.8), snapshot refused"
# new snapshot keys void the trusted timestamp and snapshot (spec 5.3.11)
fresh rotsnap && repo rotate snapshot + publish root && keep &&
	fails "required by role 'snapshot'" tc refresh && [ "$(ver root)" = 2 ] && [ ! -e "$MD/snapshot.json" ] &&
	cmp -s "$MD/timestamp.json" "$(pub timestamp.json)" && kept_same_but root.json timestamp.json snapshot.json
ok $? "a rotated snapshot key removes the trusted snapshot; the old-key snapshot is refused"

# a role's keyids listing one key twice does not make it count twice
fresh dupkey && k=$(jget "$RD/state.json" 'd["roles"]["snapshot"]["signers"][0]') &&
	repo set root "roles/snapshot/keyids=[\"$k\", \"$k\", \"$k\"]" roles/snapshot/threshold=2 &&
	repo publish root + snapshot &&
	fails "1 valid signature of the 2 required by role 'snapshot'" tc refresh && [ "$(ver snapshot)" = 1 ]
ok $? "one key listed three times with threshold 2: not met"

# --- freeze: expired metadata ---------------------------------------------------------
fresh exp-ts && repo set timestamp expires=@-1 + publish timestamp &&
	refresh_fails "timestamp version 2 expired at"
ok $? "an expired timestamp is refused, nothing trusted changes"
fresh exp-snap && repo set snapshot expires=@-1 + snapshot && keep &&
	fails "snapshot version 2 expired at" tc refresh && kept_same_but timestamp.json && [ "$(ver timestamp)" = 2 ]
ok $? "an expired snapshot is refused (the new timestamp is kept, spec 5.4.5)"
fresh exp-tgt && repo set targets expires=@-1 + publish targets + snapshot && keep &&
	fails "targets version 2 expired at" tc refresh && kept_same_but timestamp.json snapshot.json
ok $? "expired targets are refused (timestamp and snapshot kept)"
fresh exp-root && repo set root expires=@0.00007 + publish root && run 0 tc refresh && sleep 6 &&
	refresh_fails "trusted root version 2 expired at"
ok $? "the trusted root expires: the next refresh fails, nothing changes"
if command -v faketime >/dev/null; then
	# (ASan wants to come first; libfaketime is preloaded)
	fresh faketime && keep && fails "root version 1 expired" env ASAN_OPTIONS=verify_asan_link_order=0 \
		faketime -f +40d "$TUF_CLIENT" --metadata-url "$MURL" --metadata-dir "$MD" refresh && kept_same
	ok $? "under faketime +40d the 30-day metadata has expired"
fi

# --- rollback -------------------------------------------------------------------------
fresh rb-ts && repo publish timestamp && run 0 tc refresh &&
	repo set timestamp version=1 + publish timestamp --no-bump && refresh_fails "version 1 is older than the trusted 2"
ok $? "timestamp version rollback is refused"
fresh rb-ts-snap && repo snapshot && run 0 tc refresh &&
	repo set timestamp meta/snapshot.json/version=1 + publish timestamp &&
	refresh_fails "snapshot version 1 is older than the trusted 2"
ok $? "timestamp naming an older snapshot is refused"
fresh rb-tgt && repo publish targets + publish targets + snapshot && run 0 tc refresh &&
	repo set targets version=1 + publish targets --no-bump + snapshot && keep &&
	fails "'targets.json' version 1 is older than the trusted 3" tc refresh && kept_same_but timestamp.json
ok $? "a snapshot rolling targets back is refused"
fresh rb-role && repo delegate targets A + publish @targets + snapshot && run 0 tc refresh &&
	repo set snapshot meta/A.json=DELETE + publish snapshot + timestamp && keep &&
	fails "'A.json' is no longer listed" tc refresh && kept_same_but timestamp.json
ok $? "a snapshot dropping a role is refused"
fresh eq-ts && keep && repo set timestamp meta/snapshot.json/version=100 + publish timestamp --no-bump &&
	run 0 tc refresh && kept_same
ok $? "a timestamp of the trusted version with other content: the trusted one is kept"

# fast-forward recovery: rotating the keys voids what the old keys signed (spec 5.3.11)
fresh ff-ts && repo set timestamp version=99 + publish timestamp && run 0 tc refresh &&
	[ "$(ver timestamp)" = 100 ] &&
	repo rotate timestamp + publish root + set timestamp version=1 + publish timestamp --no-bump &&
	run 0 tc refresh &&
	[ "$(ver timestamp)" = 1 ] && cmp -s "$MD/timestamp.json" "$(pub timestamp.json)"
ok $? "timestamp fast-forward attack recovered by rotating the timestamp key"
fresh ff-snap && repo set snapshot version=99998 + snapshot && run 0 tc refresh &&
	[ "$(ver snapshot)" = 99999 ] && repo rotate snapshot + rotate timestamp + publish root \
	+ set snapshot version=1 + publish snapshot --no-bump + timestamp && run 0 tc refresh &&
	[ "$(ver snapshot)" = 1 ]
ok $? "snapshot fast-forward attack recovered by rotating snapshot and timestamp keys"
fresh ff-none && repo set timestamp version=99 + publish timestamp && run 0 tc refresh &&
	repo set timestamp version=1 + publish timestamp --no-bump && refresh_fails "older than the trusted 100"
ok $? "without a key rotation the same rollback is refused"

# --- mix-and-match, versions, lengths -------------------------------------------------
fresh mix && repo snapshot --hashes-only && run 0 tc refresh &&
	repo snapshot --hashes-only + set snapshot x-other=1 + publish snapshot --no-bump && keep &&
	fails "3.snapshot.json': sha256 mismatch" tc refresh && kept_same_but timestamp.json
ok $? "a validly signed snapshot other than the one timestamp hashes is refused"
fresh snaplen && repo snapshot --hashes && printf '          ' >>"$(pub 2.snapshot.json)" && keep &&
	fails "2.snapshot.json': larger than" tc refresh && kept_same_but timestamp.json
ok $? "a snapshot longer than timestamp's length: endless data cut"
fresh snapver && repo snapshot + set snapshot version=3 + publish snapshot --no-bump &&
	cp "$(pub 3.snapshot.json)" "$(pub 2.snapshot.json)" && keep &&
	fails "2.snapshot.json': version 3, timestamp names version 2" tc refresh && kept_same_but timestamp.json
ok $? "2.snapshot.json holding version 3 is refused"
fresh tgtver && repo publish targets && cp "$(pub 2.targets.json)" "$(pub 3.targets.json)" &&
	repo set snapshot meta/targets.json/version=3 + publish snapshot + timestamp && keep &&
	fails "3.targets.json': version 2, snapshot names version 3" tc refresh && kept_same_but timestamp.json snapshot.json
ok $? "3.targets.json holding version 2 is refused"

# --- malformed, oversized, truncated ---------------------------------------------------
fresh tsbig && head -c 20000 /dev/zero | tr '\0' ' ' >"$(pub timestamp.json)" &&
	refresh_fails "timestamp.json': larger than 16384 bytes"
ok $? "an endless timestamp is cut at 16384 bytes"
fresh tstrunc && repo publish timestamp && head -c 200 "$(pub timestamp.json)" >"$T/t" &&
	mv "$T/t" "$(pub timestamp.json)" &&
	refresh_fails "timestamp.json': line 1 column"
ok $? "a truncated timestamp is refused"
fresh tstype && cp "$(pub 1.snapshot.json)" "$(pub timestamp.json)" &&
	refresh_fails "_type: 'snapshot', expected 'timestamp'"
ok $? "a snapshot served as timestamp.json is refused (_type)"
fresh ts404 && rm "$(pub timestamp.json)" && refresh_fails "timestamp.json"
ok $? "no timestamp.json (404): refresh fails"
fresh tsdup && repo publish timestamp &&
	pyedit "$(pub timestamp.json)" 'd["signatures"].append(d["signatures"][0])' &&
	refresh_fails "signs twice"
ok $? "a signature listed twice (same keyid) makes the file malformed"
fresh tsbadsig && repo publish timestamp &&
	pyedit "$(pub timestamp.json)" 's = d["signatures"][0]
s["sig"] = ("0" if s["sig"][8] != "0" else "1").join((s["sig"][:8], s["sig"][9:]))' &&
	refresh_fails "0 valid signatures of the 1 required by role 'timestamp'"
ok $? "a timestamp with a corrupted signature is refused"
fresh tsbody && repo publish timestamp &&
	pyedit "$(pub timestamp.json)" 'd["signed"]["meta"]["snapshot.json"]["version"] = 7' &&
	refresh_fails "0 valid signatures"
ok $? "a timestamp whose body was changed after signing is refused"
fresh tswrongkey && k=$(jget "$RD/state.json" 'd["roles"]["snapshot"]["signers"][0]') &&
	"$PY" -c '
import json, sys
p = sys.argv[1]; s = json.load(open(p))
s["roles"]["timestamp"]["signers"] = [sys.argv[2]]
json.dump(s, open(p, "w"))' "$RD/state.json" "$k" && repo publish timestamp &&
	refresh_fails "required by role 'timestamp'"
ok $? "a timestamp signed by the snapshot key is refused"
case_new notargets && repo set snapshot meta/targets.json=DELETE + publish snapshot + timestamp && keep &&
	fails "does not list 'targets.json'" tc refresh && [ ! -e "$MD/targets.json" ]
ok $? "a snapshot without targets.json: refused"
fresh tgtreal && repo publish targets && sed -i 's/"version":2/"version":2.0/' "$(pub 2.targets.json)" &&
	repo snapshot && keep &&
	fails "2.targets.json'" tc refresh && kept_same_but timestamp.json snapshot.json
ok $? "targets with a real number is refused"

# --- init ------------------------------------------------------------------------------
# a plausible ECDSA signature by another key (the conformance suite's)
other_sig=3045022100ee448afe2d25dd1f05afedac83a24e7df90f203615221434979153dc7cea6d47022077100158
other_sig=${other_sig}51e571885a77db8a6e42c4b2983a59b9e1ebec91178dfa2fb0d42ab8
case_new badinit && cp "$(pub 1.root.json)" "$T/root.json" &&
	pyedit "$T/root.json" "d['signatures'][0]['sig'] = '$other_sig'" &&
	fails "0 valid signatures" "$TUF_CLIENT" --metadata-dir "$T/badinit2" init "$T/root.json" &&
	[ ! -e "$T/badinit2/root.json" ]
ok $? "init refuses a root not signed by its own keys and stores nothing"
cp "$(pub 1.root.json)" "$T/root.json" && pyedit "$T/root.json" 'del d["signed"]["version"]' &&
	fails "signed.version" "$TUF_CLIENT" --metadata-dir "$T/badinit3" init "$T/root.json" &&
	[ ! -e "$T/badinit3/root.json" ]
ok $? "init refuses a root without a version"

done_testing
