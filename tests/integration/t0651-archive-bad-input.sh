#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# tuxtape archive with bad input: wrong or missing passphrase, a missing
# offline key, files that are no livepatch module, a module for another
# kernel, corrupt staged state, a full disk at every file of a publish
# (TUXTAPE_TEST_ARCHIVE_FAIL_WRITE) and a publish killed between any two
# files (TUXTAPE_TEST_ARCHIVE_KILL_AFTER): each leaves a repository that
# tuxtape-tuf-client, over loopback HTTP from `archive serve`, accepts.
. "$SOURCE_ROOT/tests/integration/lib.sh"
: "${TUF_CLIENT:?TUF_CLIENT must point at tuxtape-tuf-client}"

R=6.1.0-54-amd64
A=$T/archive
printf 'archive test passphrase\n' >"$T/pass"
printf 'not the passphrase\n' >"$T/wrong"
_srv=
trap '[ -z "$_srv" ] || { kill $_srv 2>/dev/null; wait $_srv 2>/dev/null; }; cleanup' EXIT

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

MD=$T/node-meta
TD=$T/node-targets
tc() {
	"$TUF_CLIENT" --metadata-url "${URL}metadata/" --metadata-dir "$MD" "$@"
}
dl() {
	tc --target-name "$1" --target-dir "$TD" --target-base-url "${URL}targets/" download
}
# the repository as served: every metadata file and its bytes
snap() {
	(cd "$A/repository/metadata" && sha256sum ./*.json)
}

# --- init --------------------------------------------------------------------------
run 1 arc init "$A" && grep -q "offline root keys are encrypted: give a passphrase" "$T/err" &&
	[ ! -e "$A" ]
ok $? "init without a passphrase: exit 1, no archive left"
run 2 arc init "$A" --scheme rsa; ok $? "init --scheme rsa: usage (2)"
run 2 arc init "$A" --expiry snapshot=soon && grep -q "invalid duration 'soon'" "$T/err"
ok $? "init --expiry with a bad duration: usage"
run 2 arc init "$A" --expiry mirror=1d; ok $? "init --expiry of an unknown role: usage"
run 2 arc init "$A" --root-keys 0; ok $? "init --root-keys 0: usage"
run 2 arc init "$A" --signer-command root=nothing; ok $? "init --signer-command without a key file: usage"
run 1 arc init "$A" --root-keys 2 --root-threshold 3 --passphrase-file "$T/pass" &&
	grep -q "threshold 3 is more than its 2 keys" "$T/err" && [ ! -e "$A" ]
ok $? "init with a threshold above the keys: exit 1"
: >"$T/empty"
run 1 arc init "$A" --passphrase-file "$T/empty" && grep -q "empty first line" "$T/err"
ok $? "an empty passphrase file: exit 1"
run 0 env TUXTAPE_ARCHIVE_PASSPHRASE="archive test passphrase" "$TUXTAPE" archive init "$A" --root-keys 3 --root-threshold 2
ok $? "init with the passphrase from the environment, 2-of-3 root keys"
run 1 arc init "$A" --passphrase-file "$T/pass" && grep -q "not empty" "$T/err"
ok $? "init into a non-empty directory: exit 1"
run 1 arc list --archive "$T" && grep -q "is not an archive" "$T/err"
ok $? "a directory that is no archive: exit 1"

# --- modules that are refused ---------------------------------------------------------
mkmod "$T/lp1.ko" livepatch_a $R 1 one && mkmod "$T/plain.ko" e1000e $R 0 p &&
	mkmod "$T/other.ko" livepatch_b 6.1.0-53-amd64 1 o && mkmod "$T/nover.ko" livepatch_c "" 1 n &&
	mkmod "$T/lp2.ko" livepatch_a $R 1 two
ok $? "test modules"
printf 'hello\n' >"$T/text.ko"
run 1 arc add --archive "$A" "$T/text.ko" && grep -q "'$T/text.ko' is not a kernel module: not an ELF file" "$T/err"
ok $? "a text file: not a kernel module"
gcc -o "$T/exe" -x c - <<'EOF'
int main(void) { return 0; }
EOF
run 1 arc add --archive "$A" "$T/exe" && grep -q "not a relocatable object" "$T/err"
ok $? "an executable: not a relocatable object"
run 1 arc add --archive "$A" "$T/m.o" && grep -q "no .modinfo section" "$T/err"
ok $? "an object without .modinfo: refused"
run 1 arc add --archive "$A" "$T/plain.ko" && grep -q "is not a livepatch: no livepatch=Y" "$T/err"
ok $? "a module without the livepatch flag: refused"
run 1 arc add --archive "$A" --kernel-release $R "$T/other.ko" &&
	grep -q "is built for kernel '6.1.0-53-amd64' (vermagic), not '$R'" "$T/err"
ok $? "a module for another kernel than --kernel-release: refused"
run 1 arc add --archive "$A" "$T/nover.ko" && grep -q "give its kernel with --kernel-release" "$T/err"
ok $? "no vermagic and no --kernel-release: refused"
run 1 arc add --archive "$A" "$T/missing.ko" && grep -q "cannot read module" "$T/err"
ok $? "a missing file: exit 1"
run 2 arc add --archive "$A" --cve CVE-1 "$T/lp1.ko" && grep -q "invalid CVE id" "$T/err"
ok $? "a bad CVE id: usage"
run 2 arc add --archive "$A" --kernel-release 'a/b' "$T/lp1.ko"; ok $? "a kernel release with '/': usage"
run 1 arc add --archive "$A" "$T/lp1.ko" "$T/plain.ko" && [ ! -e "$A/staged/roles/$R.json" ]
ok $? "one refused module: nothing of the batch is staged"
run 1 arc add --archive "$A" "$T/lp1.ko" --replaces "$R/none-1.ko" && grep -q "no such target" "$T/err"
ok $? "--replaces of a target that is not there: exit 1"
run 2 arc remove --archive "$A"; ok $? "remove without PATH: usage"
run 5 arc remove --archive "$A" "$R/livepatch_a-9.ko"; ok $? "remove of an unknown target: exit 5"
run 2 arc revoke --archive "$A" "$R/livepatch_a-1.ko"; ok $? "revoke without --reason: usage"
run 5 arc list --archive "$A" --kernel 5.10.0-1-amd64; ok $? "list of an unknown kernel: exit 5"

# --- a first good state, served ----------------------------------------------------------
run 0 arc add --archive "$A" "$T/lp1.ko" && run 0 arc publish --archive "$A" --passphrase-file "$T/pass"
ok $? "add and publish"
"$TUXTAPE" archive serve --archive "$A" --listen 127.0.0.1:0 --json >"$T/serve.json" 2>"$T/serve.err" &
_srv=$!
for _i in $(seq 100); do [ -s "$T/serve.json" ] && break; sleep 0.05; done
URL=$(jget "$T/serve.json" 'd["url"]')
run 0 "$TUF_CLIENT" --metadata-dir "$MD" init "$A/repository/metadata/1.root.json" && run 0 dl "$R/livepatch_a-1.ko"
ok $? "the node downloads it"

# --- passphrases and keys -------------------------------------------------------------------
mkmod "$T/new.ko" livepatch_new 6.1.0-99-amd64 1 new && run 0 arc add --archive "$A" "$T/new.ko"
ok $? "a module for a new kernel (needs a new delegation)"
snap >"$T/before"
run 1 arc publish --archive "$A" && grep -q "the targets key .* is encrypted: give the offline passphrase" "$T/err"
ok $? "a new delegation without the passphrase: exit 1"
run 1 arc publish --archive "$A" --passphrase-file "$T/wrong" && grep -q "wrong passphrase" "$T/err"
ok $? "the wrong passphrase: exit 1"
mv "$A/keys/offline" "$T/usb-stick"
run 1 arc publish --archive "$A" --passphrase-file "$T/pass" && grep -q "the targets key .* is missing" "$T/err"
ok $? "a missing offline key: exit 1, named"
snap | cmp -s - "$T/before"; ok $? "the repository is as it was"
run 0 arc publish --archive "$A" --passphrase-file "$T/pass" --offline-dir "$T/usb-stick"
ok $? "--offline-dir points at the offline keys"
run 0 dl "6.1.0-99-amd64/livepatch_new-1.ko"; ok $? "the node sees it"

# --- corrupt staged state ---------------------------------------------------------------------
run 0 arc add --archive "$A" "$T/lp2.ko"
cp "$A/staged/roles/$R.json" "$T/role.good"
printf '{"name": "%s", "targets": [' "$R" >"$A/staged/roles/$R.json"
snap >"$T/before"
run 1 arc publish --archive "$A" && grep -q "staged state is corrupt: '$A/staged/roles/$R.json' line 1" "$T/err"
ok $? "a truncated staged role: exit 1, file and position named"
printf '{"name": "%s", "targets": {"%s/x.ko": {"length": -1}}, "patch_versions": {}}' "$R" "$R" >"$A/staged/roles/$R.json"
run 1 arc publish --archive "$A" && grep -q "target '$R/x.ko'" "$T/err"
ok $? "a staged target without hashes: exit 1"
cp "$T/role.good" "$A/staged/roles/$R.json"
cp "$A/staged/changes.json" "$T/changes.good"
printf '{"roles": 7}' >"$A/staged/changes.json"
run 1 arc publish --archive "$A" && grep -q "staged state '$A/staged/changes.json' is corrupt" "$T/err"
ok $? "a corrupt change list: exit 1"
cp "$T/changes.good" "$A/staged/changes.json"
printf '{"format": 1}' >"$T/archive.json.bad" && cp "$A/archive.json" "$T/archive.json.good" &&
	cp "$T/archive.json.bad" "$A/archive.json"
run 1 arc publish --archive "$A" && grep -q "roles.root: bad keys or threshold" "$T/err"
ok $? "a corrupt archive.json: exit 1"
cp "$T/archive.json.good" "$A/archive.json"
snap | cmp -s - "$T/before" && run 0 tc refresh; ok $? "the repository as it was, and the node accepts it"

# --- a full disk at each file of a publish ------------------------------------------------------
# This publish writes the role, snapshot, timestamp: three files.
for n in 1 2 3; do
	run 1 env TUXTAPE_TEST_ARCHIVE_FAIL_WRITE=$n "$TUXTAPE" archive publish --archive "$A" &&
		grep -q "No space left on device" "$T/err" && snap | cmp -s - "$T/before" &&
		run 0 tc refresh && [ -z "$(find "$A/repository" -name '*.tmp.*')" ] || break
done
ok $? "disk full at file 1, 2 and 3: exit 1, served metadata unchanged, no temporary left, node fine"

# --- a publish killed between any two files -------------------------------------------------------
cp "$A/repository/metadata/timestamp.json" "$T/ts.before"
for n in 1 2; do
	run 137 env TUXTAPE_TEST_ARCHIVE_KILL_AFTER=$n "$TUXTAPE" archive publish --archive "$A" &&
		cmp -s "$A/repository/metadata/timestamp.json" "$T/ts.before" &&
		run 0 tc refresh && run 1 dl "$R/livepatch_a-2.ko" || break
done
ok $? "killed after the role, after the snapshot: the node still refreshes, sees the old state"
run 137 env TUXTAPE_TEST_ARCHIVE_KILL_AFTER=3 "$TUXTAPE" archive publish --archive "$A" &&
	run 0 dl "$R/livepatch_a-2.ko" && cmp -s "$TD/$R/livepatch_a-2.ko" "$T/lp2.ko"
ok $? "killed right after timestamp.json: the new state is whole, the node gets it"
run 0 arc publish --archive "$A" --json && [ "$(jget "$T/out" 'd["roles"]')" = "['$R']" ] && run 0 tc refresh
ok $? "the next publish finishes the interrupted one; the node follows"

# --- locks ------------------------------------------------------------------------------------------
flock "$A/lock" sleep 3 &
_lk=$!
sleep 0.3
run 4 arc publish --archive "$A" && grep -q "locked by another process" "$T/err"
ok $? "another process holds the archive: exit 4"
run 0 arc list --archive "$A"; ok $? "list does not need the lock"
wait $_lk

done_testing
