#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The real-fixes study (docs/real-fixes.md): every fix of fixes.txt is
# analysed, built into a livepatch for Debian 12's 6.1.0-53-amd64 (6.1.187)
# and verified in a VM (qemu; nothing is loaded on this machine), then a
# table and the success rate are printed.
#
# usage: sh tests/real-fixes/run.sh [--only ID[,ID...]] [--stage analyse|build|verify]
#                                    [--verify-only]
# --verify-only reuses the modules of an earlier run and only verifies them.
#
# Environment: TUXTAPE (the binary, default: tuxtape in PATH),
# TUXTAPE_CORE_DATA_DIR (data directory), KERNEL (registered name, default
# deb53), OUT (results, default DATA/real-fixes), ACCEL (auto|kvm|tcg).
# The kernel is registered (--debian, downloads ~220 MB) and prepared when
# needed (prepare also reads the symbol table of the kernel booted in a
# VM).  Results: OUT/ID.{analyse,build,verify}.json, OUT/ID.ko,
# OUT/results.json and the table on stdout.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
TT=${TUXTAPE:-tuxtape}
KERNEL=${KERNEL:-deb53}
RELEASE=6.1.0-53-amd64
DATA=${TUXTAPE_CORE_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/tuxtape}
export TUXTAPE_CORE_DATA_DIR=$DATA
OUT=${OUT:-$DATA/real-fixes}
ACCEL=${ACCEL:-auto}
only=
stage=verify
verify_only=0
while [ $# -gt 0 ]; do
	case $1 in
	--only) only=",$2,"; shift 2 ;;
	--stage) stage=$2; shift 2 ;;
	--verify-only) verify_only=1; shift ;;
	-h|--help) sed -n '2,16p' "$0"; exit 0 ;;
	*) echo "run.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
case $stage in analyse|build|verify) ;; *) echo "run.sh: bad --stage '$stage'" >&2; exit 2 ;; esac
mkdir -p "$OUT" || exit 1
say() { echo "run.sh: $*" >&2; }

# 1. The kernel, registered and prepared.
if ! "$TT" kernel show "$KERNEL" >/dev/null 2>&1; then
	say "registering $KERNEL ($RELEASE)"
	"$TT" kernel add "$KERNEL" --debian "$RELEASE" >&2 || exit 1
fi
"$TT" kernel prepare "$KERNEL" >"$OUT/prepare.log" 2>&1 || { cat "$OUT/prepare.log" >&2; exit 1; }

# 2. The shipped patches are what the two source trees say.
SRC=$DATA/cache/debian/src
if [ -d "$SRC/linux-source-6.1.187-1" ] && [ -d "$SRC/linux-source-6.1.190-1" ]; then
	sh "$HERE/extract.sh" --check "$SRC/linux-source-6.1.187-1" "$SRC/linux-source-6.1.190-1" ||
		{ say "the patches differ from the trees (sh extract.sh regenerates them)"; exit 1; }
else
	say "linux-source 6.1.190-1 not unpacked: patches not re-checked against the trees"
fi

# 3. The target's modules a fix's test loads first, from the image package.
deb=$(ls "$DATA"/cache/debian/linux-image-${RELEASE}_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || { say "no cached linux-image-$RELEASE package"; exit 1; }
MODS=$OUT/modules/lib/modules/$RELEASE/kernel
need=
for d in $(grep -v '^#' "$HERE/fixes.txt" | cut -d'|' -f5 | tr ' ' '\n' | sort -u); do
	[ "$d" = - ] || [ -f "$MODS/$d" ] || need="$need ./lib/modules/$RELEASE/kernel/$d"
done
if [ -n "$need" ]; then
	mkdir -p "$OUT/modules" || exit 1
	# shellcheck disable=SC2086
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$OUT/modules" $need || exit 1
fi

# 4. Each fix: analyse, build, verify.
grep -v '^#' "$HERE/fixes.txt" | grep -v '^$' >"$OUT/fixes.list"
while IFS='|' read -r id area files target deps test title; do
	case $only in ""|*",$id,"*) ;; *) continue ;; esac
	patch=$HERE/patches/$id.patch
	name=rf_$(echo "$id" | tr -- '-' '_')
	if [ $verify_only = 1 ]; then
		rm -f "$OUT/$id".verify.* "$OUT/$id".after.sh
	else
		rm -f "$OUT/$id".*
	fi
	# patch build runs the analysis itself and reports it: analyse alone
	# only for --stage analyse.
	if [ $verify_only = 1 ]; then
		:
	elif [ $stage = analyse ]; then
		say "$id: analyse"
		"$TT" --json patch analyse --kernel "$KERNEL" --offline "$patch" </dev/null \
			>"$OUT/$id.analyse.json" 2>"$OUT/$id.analyse.err"
		echo $? >"$OUT/$id.analyse.rc"
		continue
	else
		say "$id: build"
		s=$(date +%s)
		"$TT" --json patch build --kernel "$KERNEL" --offline --name "$name" \
			-o "$OUT/$id.ko" "$patch" </dev/null \
			>"$OUT/$id.build.json" 2>"$OUT/$id.build.err"
		echo $? >"$OUT/$id.build.rc"
		echo $(($(date +%s) - s)) >"$OUT/$id.build.s"
	fi
	[ $stage = build ] && continue
	[ -f "$OUT/$id.ko" ] && [ "$(cat "$OUT/$id.build.rc")" = 0 ] || continue

	# The test after loading first checks, in the VM, that every function
	# the build redirects is in the patch's sysfs tree and hooked by ftrace,
	# then runs the fix's own test.
	python3 - "$OUT/$id.build.json" "$name" >"$OUT/$id.after.sh" <<'EOF' || continue
import json, sys
rep, name = json.load(open(sys.argv[1])), sys.argv[2]
print("# Every redirected function is patched: sysfs and ftrace agree.")
print("tr=/sys/kernel/debug/tracing; [ -f $tr/enabled_functions ] || tr=/sys/kernel/tracing")
print("[ -f $tr/enabled_functions ] || mount -t tracefs tracefs /sys/kernel/tracing")
print("bad=0")
for o in rep["module"]["objects"]:
    for f in o.get("functions", o.get("funcs", [])):
        fn, obj = f["old_name"], o["objname"]
        print(f'ls -d /sys/kernel/livepatch/{name}/{obj}/{fn},* >/dev/null 2>&1 || '
              f'{{ echo "not patched (sysfs): {obj} {fn}"; bad=1; }}')
        print(f'grep -q "^{fn}[ .]" $tr/enabled_functions || '
              f'{{ echo "not hooked (ftrace): {obj} {fn}"; bad=1; }}')
print('[ $bad = 0 ] || exit 1')
EOF
	set --
	for d in $deps; do [ "$d" = - ] || set -- "$@" --dep "$MODS/$d"; done
	before=
	if [ "$test" != - ] && [ -f "$HERE/tests/$test.before" ]; then
		before=$HERE/tests/$test.before
		after=$HERE/tests/$test.after
	elif [ "$test" != - ]; then
		before=$HERE/tests/$test.sh
		after=$before
	fi
	if [ -n "$before" ]; then
		{
			echo "cat > /tmp/rf-test.sh <<'RF_TEST_EOF'"
			cat "$after"
			echo "RF_TEST_EOF"
			echo "sh /tmp/rf-test.sh || exit 1"
		} >>"$OUT/$id.after.sh"
		set -- "$@" --test-before "$before"
	fi
	say "$id: verify"
	s=$(date +%s)
	"$TT" --json patch verify --kernel "$KERNEL" --offline --accel "$ACCEL" --timeout 900 --log \
		"$@" --test-after "$OUT/$id.after.sh" "$OUT/$id.ko" </dev/null \
		>"$OUT/$id.verify.json" 2>"$OUT/$id.verify.err"
	echo $? >"$OUT/$id.verify.rc"
	echo $(($(date +%s) - s)) >"$OUT/$id.verify.s"
done <"$OUT/fixes.list"

# 5. The table and the success rate.
python3 "$HERE/report.py" "$OUT" "$HERE/tests"
