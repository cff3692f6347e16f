#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# tuxtape patch verify end to end: register Debian 12's real 6.1.0-54-amd64
# kernel with --debian (apt-get download of its packages), boot it under
# qemu and load modules in the VM.  Skips when qemu, busybox-static or the
# Debian archive are unavailable.  Nothing is loaded on this machine.
. "$SOURCE_ROOT/tests/integration/lib.sh"

REL=6.1.0-54-amd64
command -v qemu-system-x86_64 >/dev/null 2>&1 || { echo "1..0 # SKIP no qemu-system-x86_64"; exit 0; }
ldd /bin/busybox 2>&1 | grep -q 'not a dynamic executable' || { echo "1..0 # SKIP no static busybox"; exit 0; }

# Reuse a cached image package when this machine has one (saves the download).
for d in /var/cache/apt/archives /tmp/debreal/cache ${TUXTAPE_VM_CACHE:+"$TUXTAPE_VM_CACHE/data/cache/debian"}; do
	for f in "$d"/linux-image-${REL}_*.deb "$d"/linux-headers-${REL}_*.deb "$d"/linux-headers-6.1.0-54-common_*.deb; do
		[ -f "$f" ] && mkdir -p "$T/data/cache/debian" && cp "$f" "$T/data/cache/debian/"
	done
done
if ! tt kernel add deb --debian "$REL" --no-source >"$T/out" 2>"$T/err"; then
	echo "1..0 # SKIP cannot fetch $REL: $(tail -1 "$T/err")"
	exit 0
fi
ok 0 "kernel add --debian $REL"

ko=./lib/modules/$REL/kernel/drivers/net/dummy.ko
dpkg-deb --fsys-tarfile "$T"/data/cache/debian/linux-image-${REL}_*.deb | tar -x -C "$T" "$ko"
ok $? "stock dummy.ko extracted"

run 0 tt --json patch verify --kernel deb --load-only "$T/$ko"; ok $? "load-only verify of a stock module passes"
[ "$(jget "$T/out" '(d["verdict"], [s["name"] for s in d["steps"]])')" = "('ok', ['insmod', 'loaded', 'rmmod'])" ]
ok $? "verdict ok with insmod, loaded and rmmod steps"
[ "$(jget "$T/out" 'd["taint"]')" = 0 ]; ok $? "the signed Debian module does not taint"

printf '#!/bin/sh\ntest -d /sys/module/dummy\n' >"$T/test.sh"
run 6 tt --json patch verify --kernel deb --test-after "$T/test.sh" --transition-timeout 5 --timeout 120 "$T/$ko"
ok $? "a plain module verified as a livepatch fails (exit 6)"
jget "$T/out" 'd["reason"]' | grep -q "wait-patched"; ok $? "the verdict names the step that failed"

run 1 tt patch verify --kernel deb "$T/missing.ko" && grep -q "cannot read the module" "$T/err"
ok $? "a missing module is an error (1)"
run 5 tt patch verify --kernel nosuch "$T/$ko"; ok $? "an unknown kernel (5)"

done_testing
