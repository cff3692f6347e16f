#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Boots Debian 12's real 6.1 kernel under qemu (KVM if it probes fine, else
# TCG) with the verify library's initramfs, loads the stock dummy.ko in
# load-only mode and checks the protocol markers and the kernel log.
# Skips when qemu, a static busybox or the kernel package are unavailable.
set -u

: "${VERIFY_RUN:?VERIFY_RUN must point at the verify-run test driver}"
KVER=6.1.0-54-amd64
KDEB_NAME=linux-image-${KVER}_6.1.190-1_amd64.deb
BUSYBOX=${TUXTAPE_TEST_BUSYBOX:-/bin/busybox}

skip() {
	echo "1..0 # SKIP $1"
	exit 0
}

command -v qemu-system-x86_64 >/dev/null 2>&1 ||
	skip "qemu-system-x86_64 not installed (apt-get install qemu-system-x86)"
command -v jq >/dev/null 2>&1 || skip "jq not installed"
[ -x "$BUSYBOX" ] || skip "no busybox at $BUSYBOX (apt-get install busybox-static)"
# A dynamically linked busybox (package busybox) cannot run in our initramfs.
if ! ldd "$BUSYBOX" 2>&1 | grep -q 'not a dynamic executable'; then
	skip "$BUSYBOX is not static (apt-get install busybox-static)"
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/tuxtape-vm.XXXXXX")
cleanup() {
	[ -n "${TUXTAPE_TEST_KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

deb=${TUXTAPE_TEST_KERNEL_DEB:-}
if [ -z "$deb" ]; then
	for d in /tmp/debreal/cache /var/cache/apt/archives ${TUXTAPE_VM_CACHE:+"$TUXTAPE_VM_CACHE/data/cache/debian"}; do
		[ -f "$d/$KDEB_NAME" ] && deb=$d/$KDEB_NAME && break
	done
fi
if [ -z "$deb" ]; then
	mkdir -p "$T/deb"
	(cd "$T/deb" && apt-get download "linux-image-$KVER" >/dev/null 2>&1) || true
	deb=$(ls "$T"/deb/linux-image-"$KVER"_*.deb 2>/dev/null | head -n 1)
fi
[ -n "$deb" ] && [ -f "$deb" ] || skip "kernel package linux-image-$KVER unavailable"

KO=./lib/modules/$KVER/kernel/drivers/net/dummy.ko
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$T" "./boot/vmlinuz-$KVER" "$KO" ||
	skip "cannot extract vmlinuz and dummy.ko from $deb"

echo "1..9"
n=0
failed=0
ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=1
	fi
}

mkdir -p "$T/work"
start=$(date +%s)
"$VERIFY_RUN" --mode load-only --timeout 240 --busybox "$BUSYBOX" --gzip --initcall-debug \
	--work-dir "$T/work" "$T/boot/vmlinuz-$KVER" "$T/$KO" >"$T/result.json" 2>"$T/stderr"
rc=$?
end=$(date +%s)
ok "$rc" "verify-run exits 0 (ok verdict)"
[ "$rc" = 0 ] || { sed 's/^/# /' "$T/stderr"; jq -r '.reason, .log' "$T/result.json" 2>/dev/null | tail -n 40 | sed 's/^/# /'; }

j() { jq -r "$1" "$T/result.json"; }
echo "# accel $(j .accel), boot to /init $(j .boot_ms) ms, total $(j .total_ms) ms (wall $((end - start)) s), guest uptime at /init $(j .begin_uptime_s) s"

[ "$(j .verdict)" = ok ]; ok $? "verdict is ok"
[ "$(j .saw_begin)" = true ] && [ "$(j .saw_end)" = true ]; ok $? "TUXTAPE-BEGIN and TUXTAPE-END seen"
[ "$(j '[.steps[] | "\(.name)=\(.rc)"] | join(" ")')" = "insmod=0 loaded=0 rmmod=0" ]
ok $? "steps insmod, loaded, rmmod all returned 0"
j .log | grep -q '^TUXTAPE-STEP insmod 0 '; ok $? "console carries the insmod marker line"
j .dmesg | grep -q 'tuxtape: step insmod rc=0'; ok $? "kernel log has our step record"
# initcall_debug on the kernel command line makes module init visible in the log.
j .dmesg | grep -q 'initcall dummy_init_module+0x[0-9a-f]*/0x[0-9a-f]* \[dummy\] returned 0'
ok $? "kernel log shows dummy_init_module returned 0"
j .dmesg | grep -m 1 'dummy_init_module' | sed 's/^/# /'
j .dmesg | grep -q 'Linux version 6.1.0-54-amd64'; ok $? "the kernel under test is Debian's 6.1.0-54-amd64"
[ "$(j .taint)" = 0 ]; ok $? "a signed stock module leaves the kernel untainted"
exit $failed
