#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# tuxtape archive over time and keys: an expired timestamp refreshed by
# `archive refresh` (cron), refresh as a no-op, offline roles near expiry
# without their passphrase (exit 3), key rotation of every role with the
# node following the root chain, and a root key held by an external
# signing command (an HSM stand-in made of openssl).  The node is
# tuxtape-tuf-client over loopback HTTP from `archive serve`.
. "$SOURCE_ROOT/tests/integration/lib.sh"
: "${TUF_CLIENT:?TUF_CLIENT must point at tuxtape-tuf-client}"

R=6.1.0-54-amd64
A=$T/archive
printf 'archive test passphrase\n' >"$T/pass"
_srv=
trap '[ -z "$_srv" ] || { kill $_srv 2>/dev/null; wait $_srv 2>/dev/null; }; cleanup' EXIT

mkmod() {
	printf 'int tt_%s_%s;\n' "$2" "$4" | tr -c 'a-zA-Z0-9_;\n ' _ >"$T/m.c" &&
		gcc -c -o "$T/m.o" "$T/m.c" &&
		printf 'license=GPL\0name=%s\0vermagic=%s SMP mod_unload \0livepatch=Y\0srcversion=%s\0' \
			"$2" "$3" "$4" >"$T/modinfo.bin" &&
		objcopy --add-section .modinfo="$T/modinfo.bin" "$T/m.o" "$1"
}

arc() {
	"$TUXTAPE" archive "$@"
}

serve_start() {
	"$TUXTAPE" archive serve --archive "$A" --listen 127.0.0.1:0 --json >"$T/serve.json" 2>"$T/serve.err" &
	_srv=$!
	for _i in $(seq 100); do [ -s "$T/serve.json" ] && break; sleep 0.05; done
	URL=$(jget "$T/serve.json" 'd["url"]')
}

serve_stop() {
	kill "$_srv" && wait "$_srv"
	_srv=
}

# node DIR: a node whose trusted metadata lives in DIR
tc() {
	_md=$1
	shift
	"$TUF_CLIENT" --metadata-url "${URL}metadata/" --metadata-dir "$_md" "$@"
}
version() {
	jget "$1" 'd["signed"]["version"]'
}

# --- an expired timestamp, refreshed ----------------------------------------------------------
A=$T/archive-short
run 0 arc init "$A" --passphrase-file "$T/pass" --expiry timestamp=10s
ok $? "init with a 10 s timestamp"
mkmod "$T/lp1.ko" livepatch_a $R one && run 0 arc add --archive "$A" "$T/lp1.ko" &&
	run 0 arc publish --archive "$A" --passphrase-file "$T/pass"
ok $? "add and publish"
serve_start
run 0 "$TUF_CLIENT" --metadata-dir "$T/n0" init "$A/repository/metadata/1.root.json" && run 0 tc "$T/n0" refresh
ok $? "a node refreshes"
sleep 11
run 1 tc "$T/n0" refresh && grep -qi "expire" "$T/err"
ok $? "11 s later the timestamp has expired: the node refuses it"
run 0 arc refresh --archive "$A" --json &&
	[ "$(jget "$T/out" '(d["changed"], d["timestamp_version"], d["snapshot_version"], d["roles"], d["targets_written"])')" = "(True, 3, 2, [], False)" ] &&
	run 0 tc "$T/n0" refresh && [ "$(version "$T/n0/timestamp.json")" = 3 ]
ok $? "archive refresh re-signs the timestamp alone (online key, no passphrase); the node accepts it"
serve_stop

# --- refresh windows -----------------------------------------------------------------------------
A=$T/archive
run 0 arc init "$A" --passphrase-file "$T/pass" --scheme ecdsa-sha2-nistp256 --expiry kernels=10d --keep 2 &&
	[ "$(jget "$A/repository/metadata/1.root.json" '[k["scheme"] for k in d["signed"]["keys"].values()]' | tr -d "[]',")" = "ecdsa-sha2-nistp256 ecdsa-sha2-nistp256 ecdsa-sha2-nistp256 ecdsa-sha2-nistp256" ]
ok $? "init with ecdsa-sha2-nistp256 keys"
run 0 arc add --archive "$A" "$T/lp1.ko" && run 0 arc publish --archive "$A" --passphrase-file "$T/pass"
ok $? "add and publish"
serve_start
run 0 "$TUF_CLIENT" --metadata-dir "$T/n1" init "$A/repository/metadata/1.root.json" && run 0 tc "$T/n1" refresh
ok $? "a node refreshes"
cp "$A/repository/metadata/timestamp.json" "$T/ts.before"
run 0 arc refresh --archive "$A" && grep -q "nothing to do" "$T/out" &&
	cmp -s "$A/repository/metadata/timestamp.json" "$T/ts.before"
ok $? "refresh with nothing near expiry: nothing written"
run 0 arc refresh --archive "$A" --if-expiring-within 20d --json &&
	[ "$(jget "$T/out" '(d["roles"], d["snapshot_version"], d["timestamp_version"])')" = "(['$R'], 3, 3)" ]
ok $? "--if-expiring-within 20d: the kernel role (10 d), snapshot and timestamp are re-signed"
run 3 arc refresh --archive "$A" --if-expiring-within 100d && grep -q "targets metadata expires .* was not re-signed" "$T/err"
ok $? "targets near expiry without its passphrase: warning, exit 3"
run 0 arc refresh --archive "$A" --if-expiring-within 100d --passphrase-file "$T/pass" --json &&
	[ "$(jget "$T/out" '(d["targets_written"], d["root_written"], d["warnings"])')" = "(True, False, [])" ]
ok $? "with the passphrase targets is re-signed (root, 365 d, is not near)"
run 0 tc "$T/n1" refresh; ok $? "the node follows"
ls "$A/repository/metadata/" >"$T/ls"
! grep -q "^1.snapshot.json" "$T/ls" && ! grep -q "^2.snapshot.json" "$T/ls" && grep -q "^1.root.json" "$T/ls"
ok $? "--keep 2: older snapshots are pruned, roots never"

# --- rotation ------------------------------------------------------------------------------
run 1 arc rotate --archive "$A" root && grep -q "the root key .* is encrypted" "$T/err" &&
	[ ! -e "$A/repository/metadata/2.root.json" ]
ok $? "rotate root without the passphrase: exit 1, nothing written"
run 2 arc rotate --archive "$A" mirror; ok $? "rotate of an unknown role: usage"
old_ts=$(ls "$A"/keys/online/timestamp-*.pem)
run 0 arc rotate --archive "$A" timestamp --passphrase-file "$T/pass" --json &&
	[ "$(jget "$T/out" '(d["root_written"], d["root_version"])')" = "(True, 2)" ] && [ ! -e "$old_ts" ] &&
	[ "$(ls "$A"/keys/online/timestamp-*.pem | wc -l)" = 1 ]
ok $? "rotate timestamp: root v2 lists the new key; the old key file is gone"
[ "$(jget "$A/repository/metadata/timestamp.json" 'len(d["signatures"])')" = 2 ]
ok $? "the timestamp is signed by the old and the new key, valid under either root"
run 0 tc "$T/n1" refresh && [ "$(version "$T/n1/root.json")" = 2 ]; ok $? "the node follows root 1 -> 2"
run 0 arc rotate --archive "$A" root --scheme ed25519 --passphrase-file "$T/pass" &&
	[ "$(jget "$A/repository/metadata/3.root.json" 'len(d["signatures"])')" = 2 ]
ok $? "rotate root: 3.root.json signed by the old and the new root key"
run 0 tc "$T/n1" refresh && [ "$(version "$T/n1/root.json")" = 3 ]; ok $? "the node follows root 2 -> 3"
run 0 arc rotate --archive "$A" snapshot --passphrase-file "$T/pass" &&
	run 0 arc rotate --archive "$A" targets --passphrase-file "$T/pass" &&
	run 0 arc rotate --archive "$A" kernels --passphrase-file "$T/pass" --json &&
	[ "$(jget "$T/out" '(d["roles"], d["targets_written"])')" = "(['$R'], True)" ]
ok $? "rotate snapshot, targets, kernels (the kernel roles re-signed, targets re-delegates)"
run 0 tc "$T/n1" refresh && [ "$(version "$T/n1/root.json")" = 5 ] &&
	run 0 tc "$T/n1" --target-name "$R/livepatch_a-1.ko" --target-dir "$T/n1t" --target-base-url "${URL}targets/" download
ok $? "the node follows to root 5 and still downloads"
run 0 "$TUF_CLIENT" --metadata-dir "$T/n2" init "$A/repository/metadata/1.root.json" && run 0 tc "$T/n2" refresh &&
	[ "$(version "$T/n2/root.json")" = 5 ]
ok $? "a new node with 1.root.json walks the whole chain 1 -> 5"
run 0 arc publish --archive "$A" && grep -q "nothing to do" "$T/out"; ok $? "no rotation left unfinished"
run 137 env TUXTAPE_TEST_ARCHIVE_KILL_AFTER=1 "$TUXTAPE" archive rotate --archive "$A" timestamp --passphrase-file "$T/pass" &&
	run 0 tc "$T/n1" refresh
ok $? "a rotation killed after its first file: the node still refreshes"
run 1 arc refresh --archive "$A" --if-expiring-within 30d && grep -q "rotation of the timestamp keys is not finished" "$T/err"
ok $? "refresh refuses to sign while a rotation is unfinished"
run 0 arc publish --archive "$A" --passphrase-file "$T/pass" --json &&
	[ "$(jget "$T/out" '(d["root_written"], d["root_version"])')" = "(True, 6)" ] &&
	run 0 tc "$T/n1" refresh && [ "$(version "$T/n1/root.json")" = 6 ] &&
	[ "$(ls "$A"/keys/online/timestamp-*.pem | wc -l)" = 1 ]
ok $? "publish finishes it: root 6, the node follows, the old key file is gone"
serve_stop

# --- an external signer (HSM stand-in) holds the root key -------------------------------------
openssl genpkey -algorithm ed25519 -out "$T/hsm.pem" 2>/dev/null &&
	pub=$(openssl pkey -in "$T/hsm.pem" -pubout -outform DER | tail -c 32 | od -An -tx1 | tr -d ' \n') &&
	printf '{"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": "%s"}}' "$pub" >"$T/hsm.pub.json" &&
	cat >"$T/hsm-sign" <<EOF
#!/bin/sh
cat >"$T/hsm.in" && echo signed >>"$T/hsm.log" &&
openssl pkeyutl -sign -inkey "$T/hsm.pem" -rawin -in "$T/hsm.in" | od -An -tx1 | tr -d ' \n'
EOF
ok $? "an ed25519 key and a signing command"
A=$T/archive-hsm
run 0 arc init "$A" --passphrase-file "$T/pass" --signer-command "root=sh $T/hsm-sign,$T/hsm.pub.json" &&
	[ "$(jget "$A/repository/metadata/1.root.json" 'd["signed"]["roles"]["root"]["keyids"] == [k for k, v in d["signed"]["keys"].items() if v["keyval"]["public"] == "'"$pub"'"]')" = True ] &&
	[ -s "$T/hsm.log" ] && ! ls "$A"/keys/offline/root-*.pem 2>/dev/null
ok $? "init --signer-command root=...: the root key is the command's, signed through it, no key file"
run 0 arc add --archive "$A" "$T/lp1.ko" && run 0 arc publish --archive "$A" --passphrase-file "$T/pass"
ok $? "publish with the targets key from disk"
serve_start
run 0 "$TUF_CLIENT" --metadata-dir "$T/n3" init "$A/repository/metadata/1.root.json" &&
	run 0 tc "$T/n3" --target-name "$R/livepatch_a-1.ko" --target-dir "$T/n3t" --target-base-url "${URL}targets/" download
ok $? "a node trusts the HSM-signed root and downloads"
serve_stop
run 1 arc rotate --archive "$A" root --passphrase-file "$T/pass" && grep -q "external signing command" "$T/err"
ok $? "rotating a role held by an external signer is refused"
printf '#!/bin/sh\necho 00\n' >"$T/bad-sign"
run 1 arc init "$T/archive-bad" --passphrase-file "$T/pass" --signer-command "root=sh $T/bad-sign,$T/hsm.pub.json"
ok $? "a signing command whose signatures do not verify: init fails"
printf '{"keytype": "ed25519"}' >"$T/bad.pub.json"
run 1 arc init "$T/archive-bad2" --passphrase-file "$T/pass" --signer-command "root=sh $T/hsm-sign,$T/bad.pub.json" &&
	grep -q "invalid signing command for root" "$T/err"
ok $? "a malformed public key for a signing command: exit 1"

done_testing
