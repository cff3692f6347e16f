#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Several fixes in one cumulative livepatch, atomic replace and signing, on
# Debian 12's real 6.1.0-54-amd64:
#  - tt_cum_a: fix 01 alone; tt_cum_b: fixes 01 and 05 in one module, signed
#    with a key of ours (module-sign.c, libcrypto);
#  - in the VM, tt_cum_b is loaded over tt_cum_a and replaces it: both fixes
#    live, tt_cum_a gone (tests/data/livepatch-cumulative/*.sh);
#  - the appended signature verifies on the host (openssl cms) and the guest
#    kernel reads it: booted with module.sig_enforce=1 it rejects tt_cum_b for
#    an "unavailable key" (ours is not in Debian's keyring) and the unsigned
#    tt_cum_a as "unsigned".
# Shares the prepared kernel of t0330 (TUXTAPE_VM_CACHE).  Nothing is loaded
# on this machine.
. "$SOURCE_ROOT/tests/integration/lib.sh"

REL=6.1.0-54-amd64
# The sanitizer build checks the generator's code with t0330's sample cases.
[ -n "${TUXTAPE_SANITIZED:-}" ] && { echo "1..0 # SKIP sanitizer build: runs in the plain build"; exit 0; }
LP=$TEST_DATA_DIR/livepatch
CUM=$TEST_DATA_DIR/livepatch-cumulative
command -v qemu-system-x86_64 >/dev/null 2>&1 || { echo "1..0 # SKIP no qemu-system-x86_64"; exit 0; }
ldd /bin/busybox 2>&1 | grep -q 'not a dynamic executable' || { echo "1..0 # SKIP no static busybox"; exit 0; }
for p in openssl python3 objcopy; do
	command -v $p >/dev/null 2>&1 || { echo "1..0 # SKIP no $p"; exit 0; }
done

TUXTAPE_CORE_DATA_DIR="${TUXTAPE_VM_CACHE:-${VM_CACHE:-$T}}/data"
export TUXTAPE_CORE_DATA_DIR
if ! tt kernel show deb >/dev/null 2>&1; then
	if ! tt kernel add deb --debian "$REL" >"$T/out" 2>"$T/err"; then
		echo "1..0 # SKIP cannot fetch $REL: $(tail -1 "$T/err")"
		exit 0
	fi
fi

diag() {
	sed 's/^/# /' "$@" | head -n 30
}

# okd RC DESCRIPTION: ok, and returns RC (for "|| diagnostics").
okd() {
	_rc=$1
	ok "$1" "$2"
	return "$_rc"
}

modinfo_field() {
	objcopy -O binary --only-section=.modinfo "$1" "$T/modinfo.bin" 2>/dev/null || return 1
	tr '\0' '\n' <"$T/modinfo.bin" | sed -n "s/^$2=//p" | head -n 1
}

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" \
	-days 2 -subj /CN=tuxtape-test-signing >/dev/null 2>&1
ok $? "a signing key and certificate of our own"

tt --json patch build --kernel deb --name tt_cum_a -o "$T/a.ko" "$LP/01-vmlinux-klp-reloc/fix.patch" \
	>"$T/a.json" 2>"$T/a.err"
rc=$?
[ $rc -eq 0 ] && [ -f "$T/a.ko" ]
okd $? "tt_cum_a (fix 01) built" || diag "$T/a.err"

tt --json patch build --kernel deb --name tt_cum_b -o "$T/b.ko" --sign "$T/key.pem" "$T/cert.pem" \
	"$LP/01-vmlinux-klp-reloc/fix.patch" "$LP/05-new-function/fix.patch" >"$T/b.json" 2>"$T/b.err"
rc=$?
[ $rc -eq 0 ] && [ -f "$T/b.ko" ]
okd $? "tt_cum_b (fixes 01 and 05, signed) built" || diag "$T/b.err"

python3 - "$T/b.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
changed = set()
for f in (d.get("analysis") or {}).get("files") or []:
    changed.update((f.get("functions") or {}).get("changed") or [])
m = d.get("module") or {}
ok = {"cmdline_proc_show", "version_proc_show"} <= changed and m.get("replace") is True \
    and m.get("signed") is True
if not ok:
    print("# changed %s, module %s" % (sorted(changed), json.dumps(m)[:300]))
sys.exit(0 if ok else 1)
PY
ok $? "one report: both files' functions changed, replace and signed"
[ "$(modinfo_field "$T/b.ko" livepatch)" = Y ] && [ "$(modinfo_field "$T/b.ko" name)" = tt_cum_b ]
ok $? "tt_cum_b is a livepatch module named tt_cum_b"

# The appended signature: split it off and let openssl check it over the module's bytes.
python3 - "$T/b.ko" "$T/b.content" "$T/b.sig" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
magic = b"~Module signature appended~\n"
assert data.endswith(magic), "no signature magic"
t = data[-len(magic) - 12:-len(magic)]
algo, hsh, idt, sl, kl = t[:5]
(siglen,) = struct.unpack(">I", t[8:12])
assert (algo, hsh, idt, sl, kl) == (0, 0, 2, 0, 0), "not a PKCS#7 trailer"
end = len(data) - len(magic) - 12
open(sys.argv[2], "wb").write(data[:end - siglen])
open(sys.argv[3], "wb").write(data[end - siglen:end])
PY
ok $? "tt_cum_b ends in a PKCS#7 module signature"
openssl cms -verify -binary -inform DER -in "$T/b.sig" -content "$T/b.content" \
	-certfile "$T/cert.pem" -noverify -out /dev/null >"$T/cms.out" 2>&1
okd $? "openssl verifies the signature with our certificate" || diag "$T/cms.out"
printf 'x' | dd of="$T/b.content" bs=1 seek=100 conv=notrunc 2>/dev/null
! openssl cms -verify -binary -inform DER -in "$T/b.sig" -content "$T/b.content" \
	-certfile "$T/cert.pem" -noverify -out /dev/null >/dev/null 2>&1
ok $? "and refuses it over a changed module"

steps="insmod-dep test-before insmod wait-patched test-after disable wait-unpatched rmmod"
tt --json patch verify --kernel deb --dep "$T/a.ko" --test-before "$CUM/test-before.sh" \
	--test-after "$CUM/test-after.sh" "$T/b.ko" >"$T/v.json" 2>"$T/v.err"
rc=$?
[ $rc -eq 0 ] && [ "$(jget "$T/v.json" 'd["verdict"]')" = ok ] &&
	[ "$(jget "$T/v.json" '" ".join(s["name"] for s in d["steps"] if s["rc"] == 0)')" = "$steps" ]
okd $? "VM: tt_cum_a live, then tt_cum_b replaces it atomically: both fixes live, tt_cum_a gone" ||
	{ echo "# exit $rc: $(jget "$T/v.json" 'd["reason"]' 2>/dev/null)"; diag "$T/v.err"; }

tt --json patch verify --kernel deb --kernel-arg module.sig_enforce=1 --log "$T/b.ko" \
	>"$T/e1.json" 2>"$T/e1.err"
rc=$?
[ $rc -eq 6 ] && jget "$T/e1.json" 'd["log"]' | grep -q 'Loading of module with unavailable key is rejected'
okd $? "VM with sig_enforce: the kernel reads our signature and looks for its key" ||
	{ echo "# exit $rc"; jget "$T/e1.json" 'd["log"]' | grep -i 'modul\|sign' | diag; }
tt --json patch verify --kernel deb --kernel-arg module.sig_enforce=1 --log "$T/a.ko" \
	>"$T/e2.json" 2>"$T/e2.err"
rc=$?
[ $rc -eq 6 ] && jget "$T/e2.json" 'd["log"]' | grep -q 'Loading of unsigned module is rejected'
okd $? "VM with sig_enforce: the unsigned tt_cum_a is rejected as unsigned" ||
	{ echo "# exit $rc"; jget "$T/e2.json" 'd["log"]' | grep -i 'modul\|sign' | diag; }

tt patch verify --kernel deb --kernel-arg 'bad arg' "$T/b.ko" >/dev/null 2>"$T/u.err"
[ $? -eq 2 ] && grep -q 'kernel-arg' "$T/u.err"
ok $? "a --kernel-arg with a space is a usage error"
done_testing
