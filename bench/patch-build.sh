#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Speed of the livepatch generator (issue 4) on Debian 12's 6.1.0-53-amd64,
# with the kernel registered and prepared (tests/real-fixes/run.sh does both):
#   1. `tuxtape patch build` of a one-file fix to a module (bridge), median
#      of RUNS, and its peak RSS (/usr/bin/time -v: the largest of tuxtape
#      and every compiler it waited for);
#   2. `tuxtape patch verify` of that module under TCG, median of RUNS;
#   3. what a whole-kernel rebuild with the same config costs here:
#      EXTRAPOLATED from `make -j2 fs/ext4/` in a copy of the prepared tree,
#      scaled by the number of compiled files of the kernel's profile.
#
# usage: sh bench/patch-build.sh [RUNS]   (default 3)
# Environment: TUXTAPE (binary), TUXTAPE_CORE_DATA_DIR, KERNEL (default deb53),
# SKIP_REBUILD=1 to skip step 3.
set -u

RUNS=${1:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TT=${TUXTAPE:-tuxtape}
KERNEL=${KERNEL:-deb53}
RELEASE=6.1.0-53-amd64
DATA=${TUXTAPE_CORE_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/tuxtape}
export TUXTAPE_CORE_DATA_DIR=$DATA
PATCH=$ROOT/tests/real-fixes/patches/bridge-tunnel.patch
OBJ=$DATA/build/$KERNEL/obj
[ -x /usr/bin/time ] || { echo "patch-build.sh: /usr/bin/time is missing (apt-get install time)" >&2; exit 1; }
[ -f "$OBJ/.config" ] || { echo "patch-build.sh: '$KERNEL' is not prepared ($OBJ)" >&2; exit 1; }

W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT INT TERM

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }
# elapsed seconds and max RSS (KiB) from a /usr/bin/time -v report
elapsed() {
	awk -F': ' '/Elapsed \(wall clock\)/ {
		n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s }' "$1"
}
maxrss() { awk -F': ' '/Maximum resident set size/ { print $2 }' "$1"; }

echo "one-file module fix: $(basename "$PATCH") (net/bridge/br_netlink_tunnel.c, module bridge)"
: >"$W/build.s"
: >"$W/build.rss"
status=
for i in $(seq 1 "$RUNS"); do
	/usr/bin/time -v -o "$W/time" "$TT" --json patch build --kernel "$KERNEL" --offline \
		--name rf_bench -o "$W/rf_bench.ko" "$PATCH" \
		>"$W/build.json" 2>"$W/build.err" </dev/null
	rc=$?
	status=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("status"))' \
		"$W/build.json" 2>/dev/null || echo "failed (exit $rc)")
	elapsed "$W/time" >>"$W/build.s"
	maxrss "$W/time" >>"$W/build.rss"
	echo "  run $i: $(tail -1 "$W/build.s") s, $(tail -1 "$W/build.rss") KiB, $status"
done
bs=$(median <"$W/build.s")
brss=$(sort -n "$W/build.rss" | tail -1)
printf 'patch build: median %s s of %s runs (target <= 60 s, aim 20 s), peak RSS %s MiB (target <= 1024), last status %s\n' \
	"$bs" "$RUNS" "$((brss / 1024))" "$status"

if [ -f "$W/rf_bench.ko" ]; then
	deb=$(ls "$DATA"/cache/debian/linux-image-${RELEASE}_*.deb | head -1)
	mkdir -p "$W/m" && dpkg-deb --fsys-tarfile "$deb" |
		tar -x -C "$W/m" ./lib/modules/$RELEASE/kernel/net/llc/llc.ko \
			./lib/modules/$RELEASE/kernel/net/802/stp.ko \
			./lib/modules/$RELEASE/kernel/net/bridge/bridge.ko
	M=$W/m/lib/modules/$RELEASE/kernel
	: >"$W/verify.s"
	for i in $(seq 1 "$RUNS"); do
		/usr/bin/time -v -o "$W/time" "$TT" --json patch verify --kernel "$KERNEL" --offline \
			--accel tcg --timeout 900 --dep "$M/net/llc/llc.ko" --dep "$M/net/802/stp.ko" \
			--dep "$M/net/bridge/bridge.ko" "$W/rf_bench.ko" >"$W/verify.json" \
			2>"$W/verify.err" </dev/null
		rc=$?
		elapsed "$W/time" >>"$W/verify.s"
		echo "  verify run $i: $(tail -1 "$W/verify.s") s, exit $rc, peak RSS $(maxrss "$W/time") KiB"
	done
	printf 'patch verify (TCG): median %s s of %s runs (target <= 60 s)\n' \
		"$(median <"$W/verify.s")" "$RUNS"
else
	echo "patch verify: not measured (the build made no module: $status)"
fi

[ "${SKIP_REBUILD:-0}" = 1 ] && exit 0
# A whole-kernel rebuild, extrapolated from fs/ext4/ built from scratch in a
# copy of the prepared tree (objects of fs/ext4 removed first), -j2.
src=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["source_dir"])' \
	"$DATA/build/$KERNEL/prepare.json")
margs=$(python3 -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))["make_args"]))' \
	"$DATA/build/$KERNEL/prepare.json")
cp -a "$OBJ" "$W/obj"
rm -rf "$W/obj/fs/ext4"
# shellcheck disable=SC2086
/usr/bin/time -v -o "$W/time" make -s -j2 -C "$src" O="$W/obj" $margs fs/ext4/ \
	>"$W/make.log" 2>&1 </dev/null || { tail -5 "$W/make.log"; exit 1; }
ms=$(elapsed "$W/time")
n=$(find "$W/obj/fs/ext4" -name '*.o' ! -name '*.mod.o' ! -name 'built-in*' ! -name 'ext4.o' | wc -l)
total=$("$TT" --json kernel show "$KERNEL" | python3 -c 'import json,sys; print(json.load(sys.stdin)["profile_files"])')
awk -v s="$ms" -v n="$n" -v t="$total" 'BEGIN {
	printf "whole-kernel rebuild (EXTRAPOLATED): fs/ext4/ = %d objects in %.0f s with -j2;\n", n, s
	printf "  x %d compiled files of the profile = about %.0f min on this machine (-j2, shared)\n", t, s * t / n / 60
}'
