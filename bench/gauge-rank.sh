#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Benchmarks the applicability gauge and the prioritizer over every CVE of the
# vulns bundle, and kernel registration from a build directory:
#   - tuxtape kernel cves NAME --summary and cve rank --kernel NAME: 1 kernel
#   - the same for 20 kernels (6.1.x, 6.6.x, 6.12.x, 5.15.x, 5.10.x versions)
#   - tuxtape kernel add --build-dir on a synthetic built tree of 1,000
#     compiled files with 400 headers each (generated here: no real build)
# Medians of RUNS runs (default 5), SQLite.
# usage: bench/gauge-rank.sh [RUNS]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
bundle=${VULNS_BUNDLE:-$root/../shared/data/vulns/vulns-cve.bundle}
tuxtape=${TUXTAPE:-$root/build/src/cli/tuxtape}
runs=${1:-5}

[ -f "$bundle" ] || { echo "skip: no vulns bundle at $bundle"; exit 0; }
[ -x "$tuxtape" ] || { echo "build first: make build" >&2; exit 1; }
w=$(mktemp -d "${TMPDIR:-/tmp}/tuxtape-bench.XXXXXX")
trap 'rm -rf "$w"' EXIT
export TUXTAPE_CORE_DATA_DIR="$w/data"
unset TUXTAPE_CORE_DATABASE
git clone -q --bare "$bundle" "$w/vulns.git"
"$tuxtape" -q cve sync --source "$w/vulns.git" \
	--kev "$root/tests/data/kev/kev-kernel-subset.json" \
	--epss "$root/tests/data/epss/epss_scores-2026-09-29.EXCERPT.csv" >/dev/null
"$tuxtape" -q kernel add k0 --version 6.1.190 --config "$root/tests/data/kernel/sample.config" \
	--profile "$root/tests/data/kernel/sample.profile"

median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.3f", m}'; }
seconds() { /usr/bin/time -f "%e" -o "$w/t" "$@" >/dev/null 2>&1; cat "$w/t"; }

one_gauge=$(for i in $(seq "$runs"); do seconds "$tuxtape" kernel cves k0 --summary; done | median)
one_rank=$(for i in $(seq "$runs"); do seconds "$tuxtape" cve rank --kernel k0; done | median)

versions="6.1.190 6.1.150 6.1.100 6.1.50 6.1.1 6.6.100 6.6.50 6.6.1 6.12.40 6.12.10
5.15.180 5.15.100 5.15.1 5.10.230 5.10.100 5.4.290 6.8 6.9.5 6.15.3 7.1"
i=0
for v in $versions; do
	i=$((i + 1))
	"$tuxtape" -q kernel add "k$i" --version "$v" --profile "$root/tests/data/kernel/sample.profile"
done
cat >"$w/all.sh" <<ALL
for k in \$(seq 20); do
	"$tuxtape" kernel cves "k\$k" --summary >/dev/null
	"$tuxtape" cve rank --kernel "k\$k" >/dev/null 2>&1
done
ALL
twenty=$(for r in $(seq "$runs"); do seconds sh "$w/all.sh"; done | median)

# A synthetic built tree: 1,000 objects, 400 header dependencies each.
python3 - "$w/tree" <<'PY'
import os, sys
top = sys.argv[1]
os.makedirs(os.path.join(top, "include/linux"), exist_ok=True)
open(os.path.join(top, "Makefile"), "w").write("VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 190\n")
for i in range(1000):
    d = os.path.join(top, "drivers/d%d" % (i // 50))
    os.makedirs(d, exist_ok=True)
    deps = " \\\n  ".join("include/linux/h%d.h" % ((i + k) % 3000) for k in range(400))
    with open(os.path.join(d, ".f%d.o.cmd" % i), "w") as f:
        f.write("cmd_drivers/d%d/f%d.o := gcc -Wp,-MMD,drivers/d%d/.f%d.o.d -nostdinc "
                "-D__KERNEL__ -c -o drivers/d%d/f%d.o drivers/d%d/f%d.c\n\n"
                % (i // 50, i, i // 50, i, i // 50, i, i // 50, i))
        f.write("source_drivers/d%d/f%d.o := drivers/d%d/f%d.c\n\n" % (i // 50, i, i // 50, i))
        f.write("deps_drivers/d%d/f%d.o := \\\n  %s \\\n\ndrivers/d%d/f%d.o: $(deps_drivers/d%d/f%d.o)\n"
                % (i // 50, i, deps, i // 50, i, i // 50, i))
PY
reg=$(for i in $(seq "$runs"); do seconds "$tuxtape" kernel add kb --build-dir "$w/tree"; done | median)
files=$("$tuxtape" --json kernel show kb | python3 -c 'import json,sys; print(json.load(sys.stdin)["profile_files"])')

n=$("$tuxtape" --json cve list | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
echo "gauge and rank over $n CVEs, SQLite, medians of $runs runs"
printf 'kernel cves --summary, 1 kernel   %7.3f s\n' "$one_gauge"
printf 'cve rank, 1 kernel                %7.3f s\n' "$one_rank"
printf 'cves + rank, 20 kernels           %7.3f s\n' "$twenty"
printf 'kernel add --build-dir, 1,000 compiled files (%s profile entries)  %7.3f s\n' "$files" "$reg"
