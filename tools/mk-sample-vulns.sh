#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds a small vulns-style git repository from real kernel CNA records, in
# three commits with fixed dates, so `make run` and the tests can sync
# without the network:
#   1. records of 2021-2024 under cve/published/YYYY/
#   2. records of 2025-2026 added
#   3. the rejected records under cve/rejected/YYYY/
# usage: mk-sample-vulns.sh RECORDS_DIR DEST_REPO
set -eu
src=$1
dest=$2
rm -rf "$dest"
mkdir -p "$dest"
git -C "$dest" init -q -b master
git -C "$dest" config user.name "TuxTape sample"
git -C "$dest" config user.email "sample@tuxtape.invalid"

commit() {
	GIT_AUTHOR_DATE="$1" GIT_COMMITTER_DATE="$1" git -C "$dest" commit -q -m "$2"
}

copy_years() {
	for y in "$@"; do
		[ -d "$src/$y" ] || continue
		mkdir -p "$dest/cve/published/$y"
		cp "$src/$y"/CVE-* "$dest/cve/published/$y/"
	done
}

copy_years 2021 2022 2023 2024
git -C "$dest" add -A
commit "2025-01-15T10:00:00Z" "sample: records of 2021-2024"

copy_years 2025 2026
git -C "$dest" add -A
commit "2026-08-19T10:00:00Z" "sample: records of 2025-2026"

for y in "$src"/rejected/*; do
	[ -d "$y" ] || continue
	mkdir -p "$dest/cve/rejected/$(basename "$y")"
	cp "$y"/CVE-* "$dest/cve/rejected/$(basename "$y")/"
done
git -C "$dest" add -A
commit "2026-08-21T10:00:00Z" "sample: rejected records"
