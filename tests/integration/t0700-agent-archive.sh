#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# tuxtape-agent against a real archive made by `tuxtape archive`, served by
# `tuxtape archive serve` on loopback and read as a file:// tree.  The node
# is a prepared root tree with the simulated kernel (--root): nothing is
# loaded into the host's kernel.  check --dry-run, first load, a patch of
# another channel left alone, upgrade once it is promoted (atomic replace),
# a tampered target and tampered metadata refused with the
# running patch kept, mirror fallback, revocation, a WARN in the grace period,
# the boot-loop guard, apply from the cache without network.
. "$SOURCE_ROOT/tests/integration/lib.sh"

: "${TUXTAPE_AGENT:?TUXTAPE_AGENT must point at the tuxtape-agent binary}"
R=6.1.0-54-amd64
A=$T/archive
export TUXTAPE_ARCHIVE_PASSPHRASE='agent test passphrase'
_srv=
trap '[ -z "$_srv" ] || { kill $_srv 2>/dev/null; wait $_srv 2>/dev/null; }; cleanup' EXIT

# mkmod OUT NAME SALT: a livepatch-flagged ELF relocatable with a .modinfo for $R
mkmod() {
	printf 'int tt_%s_%s;\n' "$2" "$3" >"$T/m.c" &&
		gcc -c -o "$T/m.o" "$T/m.c" &&
		printf 'license=GPL\0name=%s\0vermagic=%s SMP preempt mod_unload modversions \0livepatch=Y\0srcversion=%s\0' \
			"$2" "$R" "$3" >"$T/modinfo.bin" &&
		objcopy --add-section .modinfo="$T/modinfo.bin" --set-section-flags .modinfo=alloc,readonly \
			"$T/m.o" "$1"
}

# mknode DIR: a node running $R (boot id, uptime, empty module list and log)
mknode() {
	mkdir -p "$1/proc/sys/kernel/random" "$1/sys/kernel/livepatch" "$1/dev" &&
		echo "$R" >"$1/proc/sys/kernel/osrelease" &&
		echo "${2:-5d41402a-bc4b-2a76-b971-9d911017c592}" >"$1/proc/sys/kernel/random/boot_id" &&
		echo "50.00 90.00" >"$1/proc/uptime" && echo 0 >"$1/proc/sys/kernel/tainted" &&
		: >"$1/proc/modules" && : >"$1/dev/kmsg"
}

# conf FILE URL...: an agent configuration for these mirrors
conf() {
	_f=$1
	shift
	printf '[archive]\nurl = %s\nroot = %s\n[agent]\ngrace_period = 1\ntransition_timeout = 2\n' \
		"$*" "$A/repository/metadata/1.root.json" >"$_f"
}

N=$T/node
S=$T/state
ag() {
	"$TUXTAPE_AGENT" --config "$T/agent.conf" --state-dir "$S" --root "$N" "$@"
}
lp() { [ -d "$N/sys/kernel/livepatch/$1" ]; }
mod() { grep -q "^$1 " "$N/proc/modules"; }

serve_start() {
	"$TUXTAPE" archive serve --archive "$A" --listen 127.0.0.1:0 --json >"$T/serve.json" 2>"$T/serve.err" &
	_srv=$!
	for _i in $(seq 100); do
		[ -s "$T/serve.json" ] && break
		sleep 0.05
	done
	URL=$(jget "$T/serve.json" 'd["url"]')
	[ -n "$URL" ]
}

# an archive with the first patch for $R
mkmod "$T/lp1.ko" lp_one a && mkmod "$T/lp2.ko" lp_two b && mkmod "$T/lp3.ko" lp_three c &&
	mkmod "$T/lp4.ko" lp_four d && mkmod "$T/lp5.ko" lp_five e
ok $? "test modules built (gcc, objcopy)"
run 0 tt archive init "$A" && run 0 tt archive add --archive "$A" "$T/lp1.ko" --cve CVE-2024-10001 &&
	run 0 tt archive publish --archive "$A"
ok $? "archive init, add, publish"
serve_start; ok $? "archive serve on loopback"
FILE_URL="file://$A/repository"

# --- check --dry-run over file:// and over HTTP -------------------------------
mknode "$N"
conf "$T/agent.conf" "$FILE_URL"
run 3 ag check --dry-run && grep -q "^available: dry run: '$R/lp_one-1.ko' (patch version 1) downloaded and verified, not loaded" "$T/out"
ok $? "check --dry-run over file://: downloaded and verified, exit 3 (available)"
[ -s "$S/cache/$R/lp_one-1.ko" ] && cmp -s "$S/cache/$R/lp_one-1.ko" "$T/lp1.ko" && [ -s "$S/tuf/root.json" ]
ok $? "the verified module is in the cache; the trusted root installed"
! lp lp_one && ! mod lp_one && [ ! -s "$N/dev/kmsg" ] && [ ! -e "$S/loading.json" ]
ok $? "--dry-run loaded nothing (no livepatch, module, log line or marker)"

S=$T/state-http
conf "$T/agent.conf" "$URL"
run 3 ag check --dry-run && grep -q "downloaded and verified" "$T/out"
ok $? "check --dry-run over HTTP (archive serve): exit 3"

# --- first load ------------------------------------------------------------------
run 0 ag check && grep -q "^up-to-date: loaded '$R/lp_one-1.ko'" "$T/out" && lp lp_one && mod lp_one
ok $? "check: loads lp_one, exit 0"
grep -q "livepatch: 'lp_one': patching complete" "$N/dev/kmsg" && [ ! -e "$S/loading.json" ]
ok $? "the transition completed, the grace period passed, the marker is gone"
run 0 ag status --json &&
	[ "$(jget "$T/out" '(d["code"], d["status"], [l["path"] for l in d["loaded"]], d["newest"]["cves"])')" = "(0, 'up-to-date', ['$R/lp_one-1.ko'], ['CVE-2024-10001'])" ]
ok $? "status --json: up to date, lp_one loaded, its CVEs"
[ "$(jget "$S/report.json" 'd["code"]')" = 0 ]; ok $? "report.json written"
run 0 ag check && grep -q "^up-to-date: running '$R/lp_one-1.ko'" "$T/out"
ok $? "a second check: nothing new"

# --- channels, then upgrade: a newer cumulative patch replaces it ----------------------
# patch versions grow per kernel release: lp_two is version 2.  Published only
# in beta, a node following stable (the default) does not take it.
run 0 tt archive add --archive "$A" "$T/lp2.ko" --channel beta && run 0 tt archive publish --archive "$A" &&
	run 0 ag -vv check && grep -q "offer '$R/lp_two-2.ko' (patch version 2): other-channel" "$T/err" &&
	grep -q "^up-to-date: running '$R/lp_one-1.ko'" "$T/out" && lp lp_one && ! lp lp_two && ! mod lp_two
ok $? "a newer patch only in beta: a stable node keeps lp_one"
# promoted to stable: the same patch (same version) reaches the node
run 0 tt archive promote --archive "$A" "$R/lp_two-2.ko" --channel stable &&
	run 0 tt archive publish --archive "$A" &&
	run 0 ag check && lp lp_two && ! lp lp_one && ! mod lp_one && mod lp_two
ok $? "promoted to stable: lp_two loaded by atomic replace, lp_one's module unloaded"
# The first dry run's download (lp_one-1.ko, never recorded) goes once a later dry run
# has fetched a newer one.
conf "$T/agent-file.conf" "$FILE_URL"
"$TUXTAPE_AGENT" --config "$T/agent-file.conf" --state-dir "$T/state" --root "$N" -v check --dry-run \
	>"$T/out" 2>"$T/err"
rc=$?
[ $rc -eq 3 ] && [ -s "$T/state/cache/$R/lp_two-2.ko" ] && [ ! -e "$T/state/cache/$R/lp_one-1.ko" ] &&
	grep -q "removed '.*/lp_one-1.ko' (downloaded, never recorded)" "$T/err"
ok $? "a later check --dry-run keeps only its newest download"

# --- tampering ------------------------------------------------------------------------
sleep 1
run 0 tt archive add --archive "$A" "$T/lp3.ko" && run 0 tt archive publish --archive "$A" &&
	tgt=$(ls "$A/repository/targets/$R/"*.lp_three-3.ko) && cp "$tgt" "$T/lp3.orig" &&
	printf 'EVIL' | dd of="$tgt" bs=1 seek=64 conv=notrunc 2>/dev/null
ok $? "a published target altered on the server"
run 1 ag check && grep -q "cannot download '$R/lp_three-3.ko'" "$T/err"
ok $? "the altered module is refused (exit 1)"
lp lp_two && ! lp lp_three && [ ! -e "$S/cache/$R/lp_three-3.ko" ] && [ -s "$S/cache/$R/lp_two-2.ko" ]
ok $? "the running patch and its cached copy are kept; nothing of the bad one is stored"
run 1 ag status && grep -q "^status: *error" "$T/out"; ok $? "status: exit 1 after the failed check"
cp "$T/lp3.orig" "$tgt"

cp "$A/repository/metadata/timestamp.json" "$T/ts.orig"
sed 's/"version":\([0-9]*\)/"version":9\1/' "$T/ts.orig" >"$A/repository/metadata/timestamp.json"
run 1 ag check && grep -q "timestamp" "$T/err" && grep -q "signature" "$T/err" && lp lp_two && ! lp lp_three
ok $? "tampered timestamp.json: refused, lp_two still running"
cp "$T/ts.orig" "$A/repository/metadata/timestamp.json"

# --- mirrors: the first is down, the second works --------------------------------------------
conf "$T/agent.conf" "http://127.0.0.1:1/repository" "$URL"
run 0 ag check && grep -q "mirror 'http://127.0.0.1:1/repository/'.*trying the next one" "$T/err" && lp lp_three
ok $? "mirror fallback: the second mirror answers, lp_three loaded"
conf "$T/agent.conf" "http://127.0.0.1:1/repository"
run 1 ag check && grep -q "mirror 'http://127.0.0.1:1/repository/'" "$T/err" && lp lp_three
ok $? "no mirror answers: exit 1, lp_three kept"
conf "$T/agent.conf" "$URL"

# --- revocation ---------------------------------------------------------------------------------
run 0 tt archive revoke --archive "$A" "$R/lp_three-3.ko" --reason "breaks ext4" &&
	run 0 tt archive publish --archive "$A" && run 0 ag check &&
	! lp lp_three && ! mod lp_three && lp lp_two && grep -q "revoked by the archive: breaks ext4" "$T/err"
ok $? "revoked: lp_three unloaded, lp_two back"
run 0 ag status --json &&
	[ "$(jget "$T/out" '[(b["path"], b["reason"]) for b in d["blocklist"]]')" = "[('$R/lp_three-3.ko', 'revoked by the archive: breaks ext4')]" ]
ok $? "the revoked patch is in the blocklist with the archive's reason"

# --- a WARN in the grace period ------------------------------------------------------------------
sleep 1
mkdir -p "$N/sim" && sed "s/klp_warn/lp_four/g" "$TEST_DATA_DIR/klog/synthetic/warn.kmsg" |
	sed -n '/cut here/,/end trace/p' >"$N/sim/lp_four.kmsg"
run 0 tt archive add --archive "$A" "$T/lp4.ko" && run 0 tt archive publish --archive "$A" &&
	run 4 ag check && grep -q "livepatch 'lp_four' misbehaved in the grace period" "$T/err" &&
	! lp lp_four && ! mod lp_four && lp lp_two
ok $? "lp_four WARNs in its grace period: rolled back to lp_two, exit 4"
grep -q "evidence: .*WARNING: CPU: 0 PID: 88 at .*lp_four" "$T/err"; ok $? "the evidence is logged"
run 4 ag status && grep -q "blocked: *$R/lp_four-4.ko: misbehaved in the grace period" "$T/out"
ok $? "status: exit 4, lp_four blocklisted with the klog verdict"

# --- boot-loop guard and apply without network ----------------------------------------------------
sleep 1
run 0 tt archive add --archive "$A" "$T/lp5.ko" && run 0 tt archive publish --archive "$A" &&
	: >"$N/sim/lp_five.stall"
run 1 ag check && grep -q "'lp_five': the patching transition did not complete within 2s; reverted" "$T/err" &&
	! lp lp_five && ! mod lp_five && lp lp_two && [ ! -e "$S/loading.json" ]
ok $? "a transition that does not complete: reverted and unloaded, exit 1"
rm "$N/sim/lp_five.stall"
# A crash during lp_five's load: the marker stays, the node reboots (new boot id, nothing loaded).
printf '{"path":"%s/lp_five-5.ko","module":"lp_five","patch_version":5,"phase":"loading","time":1,"boot_id":"5d41402a-bc4b-2a76-b971-9d911017c592","uptime":40.0,"stopped":false}' "$R" >"$S/loading.json"
rm -rf "$N"
mknode "$N" 0b1f0e65-0000-4000-8000-000000000002
conf "$T/agent.conf" "http://127.0.0.1:1/repository"
run 0 ag apply && grep -q "'lp_five' ($R/lp_five-5.ko): the node restarted during the load of this patch (boot-loop guard); it is blocklisted" "$T/err"
ok $? "boot-loop guard: lp_five blocklisted at the next boot"
lp lp_two && ! lp lp_five && [ ! -e "$S/loading.json" ]
ok $? "apply without network: the newest good cached patch (lp_two) is loaded"
run 0 ag --dry-run apply && grep -q "up to date: running '$R/lp_two-2.ko'" "$T/err"
ok $? "apply again: up to date"

done_testing
