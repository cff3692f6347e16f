#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The livepatch generator end to end on Debian 12's real 6.1.0-54-amd64.
# Every case under tests/data/livepatch/NN-name/ is a test patch of ours
# against the 6.1.190 source (fix.patch) and a case.conf:
#   EXPECT=built|refused   what `tuxtape patch build` must answer
#   REASON='...'           a substring of one refusal reason (refused cases)
#   DEPS='dummy ...'       Debian modules the VM loads first (image package)
#   WHY='...'              the case of the issue it covers
#   CHANGED='f ...'        functions the report must list as changed
#   NEW='f ...'            functions the report must list as new
#   KLP_SYMS='obj.sym ...' .klp.sym symbols (and .klp.rela.obj sections) the
#                          module must have
#   SECTIONS='sec ...'     special sections the module must carry (non-empty)
#   WARN_TEST=script WARN_AT='file:line func'   a second VM run firing a WARN:
#                          the verdict fails on the WARNING, which must name
#                          WARN_AT, and the kernel must go on
# Built modules are checked (vermagic of the target, livepatch modinfo, klp
# sections) and verified in a VM: test-before.sh passes on the running
# kernel, test-after.sh once the patch is enabled (each fails the other way).
#
# The prepared kernel takes minutes: the data directory is
# ${TUXTAPE_VM_CACHE:-${VM_CACHE:-$T}}/data, shared between VM tests, build
# directories and runs.  For manual runs:
# TUXTAPE_TEST_CASES='01 07' runs only those cases; TUXTAPE_TEST_KALLSYMS=FILE
# passes a saved /proc/kallsyms of the target to patch build.
# Skips when qemu, busybox-static or the Debian archive are unavailable.
# Nothing is loaded on this machine.
. "$SOURCE_ROOT/tests/integration/lib.sh"

REL=6.1.0-54-amd64
CASES=$TEST_DATA_DIR/livepatch
command -v qemu-system-x86_64 >/dev/null 2>&1 || { echo "1..0 # SKIP no qemu-system-x86_64"; exit 0; }
ldd /bin/busybox 2>&1 | grep -q 'not a dynamic executable' || { echo "1..0 # SKIP no static busybox"; exit 0; }
for p in readelf objcopy dpkg-deb python3; do
	command -v $p >/dev/null 2>&1 || { echo "1..0 # SKIP no $p"; exit 0; }
done

TUXTAPE_CORE_DATA_DIR="${TUXTAPE_VM_CACHE:-${VM_CACHE:-$T}}/data"
export TUXTAPE_CORE_DATA_DIR
debs=$TUXTAPE_CORE_DATA_DIR/cache/debian
mkdir -p "$debs"
# Reuse cached packages when this machine has them (saves the download).
for d in /var/cache/apt/archives /tmp/debreal/cache; do
	for f in "$d"/linux-image-${REL}_*.deb "$d"/linux-headers-${REL}_*.deb \
		"$d"/linux-headers-6.1.0-54-common_*.deb "$d"/linux-source-6.1_6.1.190-*.deb; do
		[ -f "$f" ] && [ ! -f "$debs/$(basename "$f")" ] && cp "$f" "$debs/"
	done
done
if ! tt kernel show deb >/dev/null 2>&1; then
	if ! tt kernel add deb --debian "$REL" >"$T/out" 2>"$T/err"; then
		echo "1..0 # SKIP cannot fetch $REL: $(tail -1 "$T/err")"
		exit 0
	fi
fi
ok 0 "kernel 'deb' ($REL) registered"

image=$(ls "$debs"/linux-image-${REL}_*.deb 2>/dev/null | head -n 1)
[ -n "$image" ]; ok $? "the image package is cached"
dpkg-deb -c "$image" | awk '{ print $6 }' | grep '\.ko$' >"$T/kos"

# extract_module NAME: the path of Debian's NAME.ko, extracted into $T/deb.
extract_module() {
	_m=$(grep "/$1\.ko\$" "$T/kos" | head -n 1)
	[ -n "$_m" ] || return 1
	if [ ! -f "$T/deb/$_m" ]; then
		mkdir -p "$T/deb"
		dpkg-deb --fsys-tarfile "$image" | tar -x -C "$T/deb" "$_m" || return 1
	fi
	echo "$T/deb/$_m"
}

# modinfo_field KO FIELD: the first FIELD=value of the module's .modinfo.
modinfo_field() {
	objcopy -O binary --only-section=.modinfo "$1" "$T/modinfo.bin" 2>/dev/null || return 1
	tr '\0' '\n' <"$T/modinfo.bin" | sed -n "s/^$2=//p" | head -n 1
}

# report_has JSON KIND NAME: NAME is in the report's analysis as a KIND
# (changed or new) function.
report_has() {
	python3 - "$1" "$2" "$3" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
names = set()
for f in (d.get("analysis") or {}).get("files") or []:
    names.update((f.get("functions") or {}).get(sys.argv[2]) or [])
sys.exit(0 if sys.argv[3] in names else 1)
PY
}

# Prints the refusals of a report as TAP comments.
show_refusals() {
	python3 - "$1" <<'PY' 2>/dev/null
import json, sys
d = json.load(open(sys.argv[1]))
for r in d.get("refusals") or []:
    print("# refused: %s: %s" % (r.get("what"), r.get("reason")))
PY
}

# Steps of a verdict as "name=rc ..." and its verdict and reason.
verdict_summary() {
	python3 - "$1" <<'PY' 2>/dev/null
import json, sys
d = json.load(open(sys.argv[1]))
print(d.get("verdict"), " ".join("%s=%s" % (s["name"], s["rc"]) for s in d.get("steps", [])),
      "|", d.get("reason") or "")
PY
}

diag() {
	sed 's/^/# /' "$@" | head -n 30
}

# okd RC DESCRIPTION: ok, and returns RC (for "|| diagnostics").
okd() {
	_rc=$1
	ok "$1" "$2"
	return "$_rc"
}

stock=$(extract_module dummy)
ok $? "stock dummy.ko extracted from the image package"
vermagic=$(modinfo_field "$stock" vermagic)
[ -n "$vermagic" ]; ok $? "the target's vermagic: '$vermagic'"

kallsyms=
[ -n "${TUXTAPE_TEST_KALLSYMS:-}" ] && kallsyms="--kallsyms $TUXTAPE_TEST_KALLSYMS"
n_cases=0
n_passed=0
passed=

for dir in "$CASES"/[0-9][0-9]-*; do
	[ -f "$dir/case.conf" ] || continue
	id=${dir##*/}
	nn=${id%%-*}
	if [ -n "${TUXTAPE_TEST_CASES:-}" ]; then
		case " $TUXTAPE_TEST_CASES " in *" $nn "*) ;; *) continue ;; esac
	fi
	EXPECT='' REASON='' DEPS='' WHY='' CHANGED='' NEW='' KLP_SYMS='' SECTIONS='' WARN_TEST='' WARN_AT=''
	. "$dir/case.conf"
	n_cases=$((n_cases + 1))
	failed_before=$_failed
	echo "# case $id: $WHY"
	ko=$T/tt_$nn.ko
	rep=$T/$nn.build.json
	t0=$(date +%s)
	# shellcheck disable=SC2086 # $kallsyms is an option and its argument
	tt --json patch build --kernel deb --name "tt_$nn" -o "$ko" $kallsyms "$dir/fix.patch" \
		>"$rep" 2>"$T/$nn.build.err"
	rc=$?
	t1=$(date +%s)
	echo "# build: $((t1 - t0)) s"
	status=$(jget "$rep" 'd["status"]' 2>/dev/null)
	if [ "$EXPECT" = refused ]; then
		[ $rc -eq 6 ] && [ "$status" = refused ]
		okd $? "$id: refused (exit 6)" || { echo "# exit $rc, status '$status'"; diag "$T/$nn.build.err"; }
		REASON=$REASON python3 -c '
import json, os, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if any(os.environ["REASON"] in (r.get("reason") or "") for r in d.get("refusals") or []) else 1)
' "$rep" 2>/dev/null
		okd $? "$id: a refusal says '$REASON'" || show_refusals "$rep"
		[ ! -e "$ko" ]; ok $? "$id: no module written"
		[ "$_failed" -eq "$failed_before" ] && { n_passed=$((n_passed + 1)); passed="$passed $nn"; }
		continue
	fi

	[ $rc -eq 0 ] && [ "$status" = built ] && [ -f "$ko" ]
	if ! okd $? "$id: built"; then
		echo "# exit $rc, status '$status'"
		show_refusals "$rep"
		diag "$T/$nn.build.err"
		echo "ok $((_n + 1)) - $id: module checks # SKIP no module"
		echo "ok $((_n + 2)) - $id: verify in the VM # SKIP no module"
		_n=$((_n + 2))
		continue
	fi
	for f in $CHANGED; do
		report_has "$rep" changed "$f"; ok $? "$id: report lists '$f' as changed"
	done
	for f in $NEW; do
		report_has "$rep" new "$f"; ok $? "$id: report lists '$f' as new"
	done

	# The module as the kernel will see it.
	[ "$(modinfo_field "$ko" vermagic)" = "$vermagic" ]
	okd $? "$id: vermagic is the target's" || echo "# vermagic '$(modinfo_field "$ko" vermagic)'"
	[ "$(modinfo_field "$ko" livepatch)" = Y ] && [ "$(modinfo_field "$ko" name)" = "tt_$nn" ]
	ok $? "$id: modinfo livepatch=Y, name=tt_$nn"
	readelf -S --wide "$ko" >"$T/$nn.sections" 2>&1
	readelf -s --wide "$ko" >"$T/$nn.symbols" 2>&1
	for s in $KLP_SYMS; do
		obj=${s%%.*}
		sym=${s#*.}
		grep -Fq " .klp.rela.$obj." "$T/$nn.sections"
		ok $? "$id: section .klp.rela.$obj.* present"
		grep -Eq " \\.klp\\.sym\\.${obj}\\.${sym}[.,]" "$T/$nn.symbols"
		ok $? "$id: symbol .klp.sym.$obj.$sym present"
	done
	for s in $SECTIONS; do
		# "[Nr] Name Type Address Off Size": the size of section $s is not 0.
		sed 's/^ *\[ *[0-9]*\]//' "$T/$nn.sections" |
			awk -v s="$s" '$1 == s && $5 !~ /^0+$/ { f = 1 } END { exit !f }'
		ok $? "$id: special section $s carried"
	done

	deps=
	steps="test-before insmod wait-patched test-after disable wait-unpatched rmmod"
	for m in $DEPS; do
		p=$(extract_module "$m") && deps="$deps --dep $p"
		steps="insmod-dep $steps"
	done
	# shellcheck disable=SC2086 # $deps holds options
	tt --json patch verify --kernel deb --test-before "$dir/test-before.sh" \
		--test-after "$dir/test-after.sh" $deps "$ko" >"$T/$nn.verify.json" 2>"$T/$nn.verify.err"
	rc=$?
	echo "# verify: $(($(date +%s) - t1)) s"
	[ $rc -eq 0 ] && [ "$(jget "$T/$nn.verify.json" 'd["verdict"]')" = ok ] &&
		[ "$(jget "$T/$nn.verify.json" '" ".join(s["name"] for s in d["steps"] if s["rc"] == 0)')" = "$steps" ]
	okd $? "$id: verdict ok: test-before, load, transition, test-after, unload" ||
		{ echo "# exit $rc: $(verdict_summary "$T/$nn.verify.json")"; diag "$T/$nn.verify.err"; }

	if [ -n "$WARN_TEST" ]; then
		# shellcheck disable=SC2086
		tt --json patch verify --kernel deb --test-before "$dir/test-before.sh" \
			--test-after "$dir/$WARN_TEST" $deps "$ko" >"$T/$nn.warn.json" 2>"$T/$nn.warn.err"
		rc=$?
		[ $rc -eq 6 ] && jget "$T/$nn.warn.json" 'd["reason"]' | grep -Fq "WARNING: CPU: " &&
			jget "$T/$nn.warn.json" 'd["reason"]' | grep -Fq " at $WARN_AT"
		okd $? "$id: the fired WARN fails the verdict and names $WARN_AT" ||
			echo "# exit $rc: $(verdict_summary "$T/$nn.warn.json")"
		[ "$(jget "$T/$nn.warn.json" '" ".join(s["name"] for s in d["steps"] if s["rc"] == 0)')" = "$steps" ]
		okd $? "$id: after the WARN the test passed and the patch unloaded" ||
			echo "# $(verdict_summary "$T/$nn.warn.json")"
	fi
	[ "$_failed" -eq "$failed_before" ] && { n_passed=$((n_passed + 1)); passed="$passed $nn"; }
done

[ $n_cases -gt 0 ]; ok $? "cases found under $CASES"
echo "# $n_passed of $n_cases cases passed:${passed:- none}"
done_testing
