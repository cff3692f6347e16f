#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Regenerate the fix patches of the real-fixes study from the two Debian
# source trees: for each line of fixes.txt, diff the named files between
# OLD and NEW, keep the named hunks, apply them to a scratch copy of OLD's
# file and write a clean unified diff (a/PATH b/PATH) to patches/ID.patch.
# Neither tree is ever written.
#
# usage: sh extract.sh [--check] [OLD NEW]
#   OLD, NEW default to linux-source-6.1.187-1 and 6.1.190-1 under
#   $TUXTAPE_CORE_DATA_DIR/cache/debian/src (tuxtape kernel add --debian
#   unpacks them there).  --check compares with the shipped patches instead
#   of writing them (exit 1 on a difference).
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
check=0
[ "${1:-}" = "--check" ] && { check=1; shift; }
DATA=${TUXTAPE_CORE_DATA_DIR:-/tmp/G-data}
OLD=${1:-$DATA/cache/debian/src/linux-source-6.1.187-1}
NEW=${2:-$DATA/cache/debian/src/linux-source-6.1.190-1}
for d in "$OLD" "$NEW"; do
	[ -f "$d/Makefile" ] || { echo "extract.sh: '$d' is not a kernel source tree" >&2; exit 1; }
done

W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT INT TERM
bad=0

# Keep the hunks listed in $2 ("all" or "1+3") of the diff in $1.
select_hunks() {
	awk -v keep="$2" '
	BEGIN { n = split(keep, k, "+"); for (i = 1; i <= n; i++) want[k[i]] = 1 }
	/^@@ / { h++ }
	h == 0 { print; next }
	keep == "all" || (h in want) { print }
	' "$1"
}

grep -v '^#' "$HERE/fixes.txt" | grep -v '^$' | while IFS='|' read -r id area files rest; do
	out="$W/$id.patch"
	: >"$out"
	for spec in $(echo "$files" | tr ',' ' '); do
		f=${spec%%:*}
		hunks=${spec#*:}
		[ -f "$OLD/$f" ] && [ -f "$NEW/$f" ] || { echo "$id: '$f' missing from a tree" >&2; exit 1; }
		diff -u "$OLD/$f" "$NEW/$f" >"$W/full.diff" || true
		[ -s "$W/full.diff" ] || { echo "$id: '$f' does not differ" >&2; exit 1; }
		select_hunks "$W/full.diff" "$hunks" >"$W/sel.diff"
		grep -q '^@@ ' "$W/sel.diff" || { echo "$id: no hunk '$hunks' in '$f'" >&2; exit 1; }
		cp "$OLD/$f" "$W/file"
		patch -s --batch --no-backup-if-mismatch "$W/file" <"$W/sel.diff" >/dev/null ||
			{ echo "$id: hunks '$hunks' of '$f' do not apply alone" >&2; exit 1; }
		diff -u --label "a/$f" --label "b/$f" "$OLD/$f" "$W/file" >>"$out" || true
	done
	if [ $check = 1 ]; then
		if ! cmp -s "$out" "$HERE/patches/$id.patch"; then
			echo "$id: differs from patches/$id.patch" >&2
			echo bad >"$W/bad"
		fi
	else
		cp "$out" "$HERE/patches/$id.patch"
		echo "patches/$id.patch: $(grep -c '^@@ ' "$out") hunk(s)"
	fi
done
[ -f "$W/bad" ] && exit 1
exit 0
