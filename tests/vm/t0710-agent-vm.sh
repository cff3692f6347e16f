#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# tuxtape-agent on Debian 12's real 6.1.0-54-amd64 under qemu: the agent and
# its libraries in an initramfs, the archive (made by `tuxtape archive`) a
# read-only virtio-9p share read as file:///mnt/archive, the agent's state on
# a second, writable 9p share that outlives the VM.  No guest networking.
# Three livepatches built from tests/data/livepatch (cached in
# $VM_CACHE/agent-modules): v1 = fix 01, v2 = 01+05, v3 = 01+05+08, each
# cumulative (atomic replace) with its own module name.  The archive is
# published three times and each state is kept as a snapshot (r1, r2, r3,
# plus r3m with a byte of timestamp.json flipped and r3t with a byte of v3's
# module flipped); /init bind-mounts a snapshot on /mnt/archive before each
# check, as a server would change under a node.
#  boot 1: check loads v1 (case 1); check upgrades to v2, v1 replaced and
#          unloaded (case 2); r3m and r3t refused, v2 stays (case 6); check
#          loads v3, /init fires its WARN in the grace period, the agent rolls
#          back to v2 by atomic replace and blocklists v3 (case 3);
#  boot 2: no archive share: `apply --defer-grace` re-applies v2 from the cache
#          (case 4), then the kernel is crashed (sysrq c) in v2's grace period;
#  boot 3: no archive share: `apply` finds the boot-loop marker, blocklists v2
#          and loads the next older cached patch, v1 (case 5).
# Each case is asserted from /init's TT-MARK lines on the console and the
# agent's output and state JSON on the state share.  Nothing is loaded on
# this machine.  TUXTAPE_TEST_KEEP=1 keeps $T (consoles, shares).
. "$SOURCE_ROOT/tests/integration/lib.sh"
. "$SOURCE_ROOT/tests/vm/agent-vm-lib.sh"

REL=6.1.0-54-amd64
LP=$TEST_DATA_DIR/livepatch
VMC=${TUXTAPE_VM_CACHE:-${VM_CACHE:-$T}}
skip() {
	echo "1..0 # SKIP $1"
	exit 0
}
# The agent's code runs under the sanitizers in t0700/t0701 on the host.
[ -n "${TUXTAPE_SANITIZED:-}" ] && skip "sanitizer build: runs in the plain build"
command -v qemu-system-x86_64 >/dev/null 2>&1 || skip "no qemu-system-x86_64"
[ -x /bin/busybox ] && ldd /bin/busybox 2>&1 | grep -q 'not a dynamic executable' ||
	skip "no static busybox (busybox-static)"
for p in python3 objcopy readelf dpkg-deb tsort ldd timeout sha256sum; do
	command -v $p >/dev/null 2>&1 || skip "no $p"
done
[ -n "${TUXTAPE_AGENT:-}" ] && [ -x "$TUXTAPE_AGENT" ] || skip "no tuxtape-agent binary"

TUXTAPE_CORE_DATA_DIR=$VMC/data
export TUXTAPE_CORE_DATA_DIR
if ! tt kernel show deb >/dev/null 2>&1; then
	tt kernel add deb --debian "$REL" >"$T/out" 2>"$T/err" ||
		skip "cannot fetch $REL: $(tail -1 "$T/err")"
fi
image=$(ls "$TUXTAPE_CORE_DATA_DIR"/cache/debian/linux-image-${REL}_*.deb 2>/dev/null | head -n 1)
[ -n "$image" ] || skip "the image package of $REL is not cached"

diag() {
	sed 's/^/# /' "$@" | head -n 40
}
# okd RC DESCRIPTION: ok, and returns RC (for "|| diagnostics").
okd() {
	_rc=$1
	ok "$1" "$2"
	return "$_rc"
}

# --- the livepatches -------------------------------------------------------------
p01=$LP/01-vmlinux-klp-reloc
p05=$LP/05-new-function
p08=$LP/08-warn-bug-table
v1=$(avm_module tt_agent_v1 "$p01/fix.patch")
okd $? "v1 (tt_agent_v1: fix 01) built or cached" || diag "$T/tt_agent_v1.build.err"
v2=$(avm_module tt_agent_v2 "$p01/fix.patch" "$p05/fix.patch")
okd $? "v2 (tt_agent_v2: fixes 01, 05) built or cached" || diag "$T/tt_agent_v2.build.err"
v3=$(avm_module tt_agent_v3 "$p01/fix.patch" "$p05/fix.patch" "$p08/fix.patch")
okd $? "v3 (tt_agent_v3: fixes 01, 05, 08) built or cached" || diag "$T/tt_agent_v3.build.err"
[ -s "$v1" ] && [ -s "$v2" ] && [ -s "$v3" ] || { echo "Bail out! no modules"; exit 1; }
python3 - "${v3%.ko}.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
changed = set()
for f in (d.get("analysis") or {}).get("files") or []:
    changed.update((f.get("functions") or {}).get("changed") or [])
want = {"cmdline_proc_show", "version_proc_show", "uptime_proc_show"}
sys.exit(0 if want <= changed and (d.get("module") or {}).get("replace") is True else 1)
PY
ok $? "v3 is one cumulative replace module changing cmdline, version and uptime_proc_show"
[ "$(modinfo_field "$v1" name)" = tt_agent_v1 ] && [ "$(modinfo_field "$v2" name)" = tt_agent_v2 ] &&
	[ "$(modinfo_field "$v3" name)" = tt_agent_v3 ] && [ "$(modinfo_field "$v1" livepatch)" = Y ] &&
	[ "$(modinfo_field "$v2" livepatch)" = Y ] && [ "$(modinfo_field "$v3" livepatch)" = Y ]
ok $? "each module is a livepatch named tt_agent_vN"

# --- the kernel: vmlinuz, its build id, the modules of a 9p share -----------------------
kd=$(avm_kernel "$image")
okd $? "vmlinuz and the virtio-9p modules taken from $(basename "$image")" ||
	{ echo "Bail out! cannot extract the kernel"; exit 1; }
BUILD_ID=$(cat "$kd/build-id")
[ ${#BUILD_ID} -eq 40 ]
ok $? "the kernel's GNU build id read from vmlinuz ($BUILD_ID)"

# --- the archive and its snapshots ------------------------------------------------------
export TUXTAPE_ARCHIVE_PASSPHRASE='agent vm test passphrase'
A=$T/archive
SA=$T/share-archive
SS=$T/share-state
mkdir -p "$SA" "$SS/agent" "$SS/out"
# publish KO CVE SNAPSHOT: adds and publishes KO, keeps the repository as
# SNAPSHOT and prints the module's target path
publish() {
	tt archive add --json --archive "$A" "$1" --cve "$2" --build-id "$BUILD_ID" \
		>"$T/add-$3.json" 2>"$T/err" && run 0 tt archive publish --archive "$A" &&
		cp -a "$A/repository" "$SA/$3" && jget "$T/add-$3.json" 'd["path"]'
}
run 0 tt archive init "$A" && P1=$(publish "$v1" CVE-2099-0001 r1) && sleep 1 &&
	P2=$(publish "$v2" CVE-2099-0002 r2) && sleep 1 && P3=$(publish "$v3" CVE-2099-0003 r3)
okd $? "archive init; v1, v2, v3 published one after the other (snapshots r1, r2, r3)" || diag "$T/err"
echo "# targets: $P1 $P2 $P3 (build id $BUILD_ID)"
cp -a "$SA/r3" "$SA/r3m" && python3 - "$SA/r3m/metadata/timestamp.json" <<'PY'
import sys
p = sys.argv[1]
b = open(p, "rb").read()
i = b.index(b'"expires":"20') + len(b'"expires":"2')
open(p, "wb").write(b[:i] + b"1" + b[i + 1:])
PY
ok $? "r3m: r3 with timestamp.json's expiry moved a century on (one byte)"
cp -a "$SA/r3" "$SA/r3t" && t3=$(ls "$SA/r3t/targets/$REL/"*."${P3#*/}") &&
	printf '\377' | dd of="$t3" bs=1 seek=200 conv=notrunc 2>/dev/null && ! cmp -s "$t3" "$v3"
ok $? "r3t: r3 with one byte of v3's published module flipped"

# --- initramfs ------------------------------------------------------------------------------
AVM_KERNEL=$kd/vmlinuz
I=$T/initramfs
mkdir -p "$I/bin" "$I/sbin" "$I/usr/bin" "$I/usr/sbin" "$I/lib/tt-mods" "$I/etc/tuxtape" "$I/tests" \
	"$I/proc" "$I/sys" "$I/tmp" "$I/mnt/share" "$I/mnt/archive" "$I/mnt/state" &&
	cp /bin/busybox "$I/bin/busybox" &&
	for a in $(/bin/busybox --list-full); do
		[ -e "$I/$a" ] || ln -s /bin/busybox "$I/$a"
	done &&
	avm_copy_elf "$I" "$TUXTAPE_AGENT" usr/sbin/tuxtape-agent &&
	xargs cp -t "$I/lib/tt-mods/" <"$kd/mods.order" &&
	sed 's|.*/||' "$kd/mods.order" >"$I/lib/tt-mods/order" &&
	cp "$A/repository/metadata/1.root.json" "$I/etc/tuxtape/root.json" &&
	printf '[archive]\nurl = file:///mnt/archive\nroot = /etc/tuxtape/root.json\n[agent]\ngrace_period = 6s\ntransition_timeout = 60s\n' \
		>"$I/etc/tuxtape/agent.conf" &&
	cp "$p01/test-before.sh" "$I/tests/01-before.sh" && cp "$p01/test-after.sh" "$I/tests/01-after.sh" &&
	cp "$p05/test-before.sh" "$I/tests/05-before.sh" && cp "$p05/test-after.sh" "$I/tests/05-after.sh" &&
	cp "$SOURCE_ROOT/tools/lsan.supp" "$I/etc/lsan.supp" &&
	cp "$SOURCE_ROOT/tests/data/agent-vm/init" "$I/init" && chmod 755 "$I/init" &&
	avm_initramfs "$I" "$T/initramfs.cpio"
okd $? "initramfs: busybox, tuxtape-agent and its $(ldd "$TUXTAPE_AGENT" | grep -c '=> /') libraries, 9p modules, /init" ||
	{ echo "Bail out! no initramfs"; exit 1; }
AVM_INITRD=$T/initramfs.cpio
AVM_ACCEL=$(avm_accel "$AVM_KERNEL" "$AVM_INITRD")
AVM_CPU=
[ "$AVM_ACCEL" = kvm ] && AVM_CPU='-cpu host'
echo "# accelerator: $AVM_ACCEL"
ARCHIVE_SHARE="local,path=$SA,mount_tag=archive,security_model=none,readonly=on"
STATE_SHARE="local,path=$SS,mount_tag=state,security_model=none"

# st FILE EXPR: a python expression on the JSON document FILE of the state share
st() {
	jget "$SS/$1" "$2" 2>/dev/null
}
# paths FILE KEY: the target paths of list KEY of a status document, sorted
paths() {
	st "$1" "' '.join(sorted(x['path'] for x in d['$2']))"
}
# console BOOT: the console of a boot as TAP comments (on failure)
console() {
	tr -d '\r' <"$T/$1.console" | grep -v '^$' | tail -n 60 | sed 's/^/# /'
}

# --- boot 1: first apply, upgrade, tampered archives, a patch that WARNs ------------------
t0=$(date +%s)
avm_boot boot1 1 -virtfs "$ARCHIVE_SHARE" -virtfs "$STATE_SHARE"
rc=$?
echo "# boot 1: $(($(date +%s) - t0)) s"
[ $rc -eq 0 ] && grep -q '^TT-END 1' "$T/boot1.console"
okd $? "boot 1 ran /init to the end and powered off" || { console boot1; diag "$T/boot1.qemu"; }
marked boot1 mount-archive && marked boot1 mount-state
okd $? "boot 1: the archive (read-only) and state 9p shares mounted" || console boot1

# case 1: first apply
marked boot1 before-01 && marked boot1 before-05
ok $? "boot 1: unpatched kernel (01 and 05 test-before pass)"
marked boot1 agent-check-v1 && grep -q "^up-to-date: loaded '$P1'" "$SS/out/check-v1.out"
okd $? "case 1: check over file:// loads v1, exit 0" || diag "$SS/out/check-v1.out" "$SS/out/check-v1.err"
marked boot1 v1-enabled && marked boot1 v1-after-01
ok $? "case 1: /sys/kernel/livepatch/tt_agent_v1/enabled = 1 and /proc/cmdline carries the marker"
[ "$(st out/status-v1.json '(d["code"], d["status"], d["kernel"]["release"])')" = "(0, 'up-to-date', '$REL')" ] &&
	[ "$(st out/status-v1.json 'd["kernel"]["build_id"]')" = "$BUILD_ID" ] &&
	[ "$(paths out/status-v1.json loaded)" = "$P1" ] &&
	[ "$(st out/status-v1.json 'd["newest"]["cves"]')" = "['CVE-2099-0001']" ]
okd $? "case 1: status --json: up to date on $REL (build id as published), v1 loaded, its CVE" || diag "$SS/out/status-v1.json"

# case 2: upgrade by atomic replace
marked boot1 agent-check-v2 && grep -q "^up-to-date: loaded '$P2'" "$SS/out/check-v2.out"
okd $? "case 2: check loads v2, exit 0" || diag "$SS/out/check-v2.out" "$SS/out/check-v2.err"
marked boot1 v2-enabled && marked boot1 v1-gone
ok $? "case 2: v2 enabled; v1 replaced: gone from /sys/kernel/livepatch and /proc/modules"
marked boot1 v2-after-01 && marked boot1 v2-after-05
ok $? "case 2: both behaviours live (01's /proc/cmdline marker, 05's /proc/version line)"
[ "$(paths out/status-v2.json loaded)" = "$P2" ] &&
	[ "$(st out/status-v2.json '(d["code"], d["newest"]["path"])')" = "(0, '$P2')" ]
okd $? "case 2: status lists v2 only, up to date" || diag "$SS/out/status-v2.json"

# case 6: tampered archives refused, the running patch stays
marked boot1 agent-check-r3m 1 && grep -q "timestamp" "$SS/out/check-r3m.err" &&
	grep -qi "signature" "$SS/out/check-r3m.err"
okd $? "case 6: a flipped byte in timestamp.json: check refuses (exit 1, signature)" ||
	diag "$SS/out/check-r3m.out" "$SS/out/check-r3m.err"
marked boot1 agent-check-r3t 1 && grep -q "$P3" "$SS/out/check-r3t.err"
okd $? "case 6: a flipped byte in v3's module: check refuses to download it (exit 1)" ||
	diag "$SS/out/check-r3t.out" "$SS/out/check-r3t.err"
marked boot1 r3m-v2-kept && marked boot1 r3t-v2-kept && marked boot1 r3t-v3-absent &&
	marked boot1 r3t-not-cached
ok $? "case 6: v2 stays loaded and enabled, v3 neither loaded nor stored in the cache"
[ "$(st out/status-r3t.json '(d["code"], d["last_check"]["result"])')" = "(1, 'error')" ] &&
	st out/status-r3t.json 'd["last_error"]["message"]' | grep -q "${P3#*/}" &&
	[ "$(paths out/status-r3t.json loaded)" = "$P2" ]
okd $? "case 6: status --json: error, the verification error named, v2 still loaded" ||
	diag "$SS/out/status-r3t.json"
[ "$(st out/status-r3t.json 'd["blocklist"]')" = "[]" ]
okd $? "case 6: a refused download blocklists nothing (the archive may be repaired)" ||
	diag "$SS/out/status-r3t.json"

# case 3: a patch that WARNs in its grace period is rolled back and blocklisted
marked boot1 warn-fired
ok $? "case 3: /init fired v3's WARN once v3 was enabled"
grep -q 'WARNING: CPU: .* at fs/proc/uptime.c:21 uptime_proc_show' "$SS/out/dmesg-1.txt" &&
	grep -q 'tuxtape-08: warning for tt08-warn' "$SS/out/dmesg-1.txt"
okd $? "case 3: the kernel logged the WARN of the patched uptime_proc_show" ||
	grep -i 'warn\|tuxtape' "$SS/out/dmesg-1.txt" | diag
marked boot1 agent-check-v3 4 && grep -q "tt_agent_v3" "$SS/out/check-v3.err" &&
	grep -qi "misbehaved" "$SS/out/check-v3.err"
okd $? "case 3: check loads v3, sees it misbehave in the grace period, exit 4" ||
	diag "$SS/out/check-v3.out" "$SS/out/check-v3.err"
marked boot1 v3-gone && marked boot1 v3-v2-enabled && marked boot1 v3-after-01 &&
	marked boot1 v3-after-05
ok $? "case 3: v3 gone (replaced and unloaded), v2 loaded again, both behaviours live"
# No unpatched moment: v2 is loaded over v3 (atomic replace), so the kernel never runs
# an unpatching transition of v3 on its own.
awk '/WARNING: CPU: .* uptime_proc_show/ { w = 1 }
	w && /livepatch: .tt_agent_v2.: starting patching transition/ { r = 1 }
	END { exit !r }' "$SS/out/dmesg-1.txt" &&
	! grep -q "livepatch: 'tt_agent_v3': starting unpatching transition" "$SS/out/dmesg-1.txt"
okd $? "case 3: v2 replaced v3 atomically after the WARN (v3 never unpatched on its own)" ||
	grep "livepatch: 'tt_agent" "$SS/out/dmesg-1.txt" | diag
[ "$(st out/status-v3.json '[b["path"] for b in d["blocklist"]]')" = "['$P3']" ] &&
	st out/status-v3.json 'd["blocklist"][0]["reason"]' | grep -qi 'warn' &&
	[ "$(paths out/status-v3.json loaded)" = "$P2" ] &&
	[ "$(st out/status-v3.json '(d["code"], d["newest"]["path"], d["newest"]["blocked"])')" = "(4, '$P3', True)" ] &&
	st out/status-v3.json '[h["event"] for h in d["history"] if h.get("path") == "'"$P3"'"]' |
	grep -q rolled-back
okd $? "case 3: status: v3 blocklisted with a reason naming the WARN, rolled back, v2 loaded, exit 4" ||
	{ st out/status-v3.json 'd["blocklist"]' | diag; st out/status-v3.json 'd["history"][-4:]' | diag; }
grep -q "tuxtape-agent: .*tt_agent_v3" "$SS/out/dmesg-1.txt"
ok $? "the agent's messages reached the kernel log (--kmsg)"

# --- boot 2: no archive; apply re-applies the cached v2, then a crash in its grace period ----
t0=$(date +%s)
avm_boot boot2 2 -virtfs "$STATE_SHARE"
echo "# boot 2: $(($(date +%s) - t0)) s"
grep -q '^TT-CRASH' "$T/boot2.console" && grep -q 'Kernel panic' "$T/boot2.console" &&
	! grep -q '^TT-END' "$T/boot2.console"
okd $? "boot 2 ran /init until the crash it provoked (sysrq c)" || { console boot2; diag "$T/boot2.qemu"; }
marked boot2 no-archive && marked boot2 no-network && marked boot2 mount-state &&
	marked boot2 before-01 && marked boot2 before-05
ok $? "boot 2: no archive share, no network interface but lo, a fresh unpatched kernel"
marked boot2 agent-apply-2 && marked boot2 v2-enabled && marked boot2 v2-after-01 &&
	marked boot2 v2-after-05 && marked boot2 v3-absent
okd $? "case 4: apply re-applies the cached v2 (the newest good patch) early: both behaviours live" ||
	diag "$SS/out/apply-2.out" "$SS/out/apply-2.err"
[ "$(paths out/status-2.json loaded)" = "$P2" ] &&
	[ "$(st out/status-2.json 'd["marker"]["path"]')" = "$P2" ] &&
	[ "$(st out/status-2.json '[l["confirmed"] for l in d["loaded"]]')" = "[False]" ]
okd $? "case 4: status: v2 loaded, not yet confirmed, its boot-loop marker set (grace deferred)" ||
	diag "$SS/out/status-2.json"

# --- boot 3: the boot-loop guard ---------------------------------------------------------------
t0=$(date +%s)
avm_boot boot3 3 -virtfs "$STATE_SHARE"
rc=$?
echo "# boot 3: $(($(date +%s) - t0)) s"
[ $rc -eq 0 ] && grep -q '^TT-END 3' "$T/boot3.console"
okd $? "boot 3 ran /init to the end and powered off" || { console boot3; diag "$T/boot3.qemu"; }
grep -q "tt_agent_v2.*boot-loop guard" "$SS/out/apply-3.err" && marked boot3 agent-apply-3
okd $? "case 5: apply reports the crash during v2's load (boot-loop guard)" ||
	diag "$SS/out/apply-3.out" "$SS/out/apply-3.err"
marked boot3 v2-absent && marked boot3 v1-enabled && marked boot3 v1-after-01 && marked boot3 v1-before-05
ok $? "case 5: v2 skipped; the next older cached patch, v1, loaded (01 live, 05 not)"
marked boot3 marker-cleared
ok $? "case 5: v1's grace period passed, the marker is cleared"
st out/status-3.json '[(b["path"], b["reason"]) for b in d["blocklist"]]' >"$T/bl3" &&
	grep -q "'$P2'" "$T/bl3" && grep -q "'$P3'" "$T/bl3" &&
	[ "$(paths out/status-3.json loaded)" = "$P1" ] &&
	st out/status-3.json '[h["event"] for h in d["history"] if h.get("path") == "'"$P2"'"]' |
	grep -q boot-loop
okd $? "case 5: status: v2 blocklisted (boot-loop) beside v3, v1 loaded" ||
	{ diag "$T/bl3"; st out/status-3.json 'd["history"][-4:]' | diag; }
[ ! -e "$SS/agent/loading.json" ] && [ -s "$SS/agent/state.json" ] &&
	[ "$(st agent/report.json '[l["path"] for l in d["loaded"]]')" = "['$P1']" ] &&
	st agent/report.json '[b["path"] for b in d["blocklist"]]' | grep -q "${P2#*/}"
ok $? "case 5: reported: report.json on the state share names v1 loaded and v2 blocked; no marker"
done_testing
