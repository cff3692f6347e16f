#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Benchmarks `tuxtape archive publish` at fleet scale: 10,000 livepatch
# modules (generated ELF relocatables with a .modinfo, 2 KiB each) across
# 500 kernel releases, staged with one `archive add`, then published: 500
# new kernel roles (kernels key), targets with 500 delegations (offline
# key), snapshot and timestamp.  Then an incremental publish: one module
# added to one of the 500 roles.  Medians of RUNS runs (default 3), each on
# a fresh archive; wall time and CPU time (user + sys: the machine is
# shared).
# usage: bench/archive-publish.sh [RUNS] [ROLES] [PER_ROLE]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
tuxtape=${TUXTAPE:-$root/build/src/cli/tuxtape}
runs=${1:-3}
roles=${2:-500}
per=${3:-20}

[ -x "$tuxtape" ] || { echo "build first: make build" >&2; exit 1; }
w=$(mktemp -d "${TMPDIR:-/tmp}/tuxtape-bench.XXXXXX")
trap 'rm -rf "$w"' EXIT

cat >"$w/gen.py" <<'PY'
import os, struct, sys
out, roles, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
salt = int(sys.argv[4]) if len(sys.argv) > 4 else 0

def elf(modinfo, pad):
    shstr = b"\0.modinfo\0.shstrtab\0.text\0"
    text = bytes(pad)
    off_mi = 64
    off_text = off_mi + len(modinfo)
    off_str = off_text + len(text)
    off_sh = (off_str + len(shstr) + 7) & ~7
    eh = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    eh += struct.pack("<HHIQQQIHHHHHH", 1, 62, 1, 0, 0, off_sh, 0, 64, 0, 0, 64, 4, 2)
    sh = bytes(64)
    sh += struct.pack("<IIQQQQIIQQ", 1, 1, 2, 0, off_mi, len(modinfo), 0, 0, 1, 0)
    sh += struct.pack("<IIQQQQIIQQ", 10, 3, 0, 0, off_str, len(shstr), 0, 0, 1, 0)
    sh += struct.pack("<IIQQQQIIQQ", 20, 1, 6, 0, off_text, len(text), 0, 0, 16, 0)
    body = eh + modinfo + text + shstr
    return body + bytes(off_sh - len(body)) + sh

paths = []
for r in range(roles):
    release = "6.1.0-%d-amd64" % (1000 + r)
    for m in range(per):
        name = "livepatch_cve_%d" % m
        mi = b"license=GPL\0name=%s\0vermagic=%s SMP preempt mod_unload modversions \0livepatch=Y\0srcversion=%08x\0" % (
            name.encode(), release.encode(), salt + r * per + m)
        p = os.path.join(out, "%d-%d.ko" % (r, m))
        with open(p, "wb") as f:
            f.write(elf(mi, 2048 - len(mi)))
        paths.append(p)
with open(os.path.join(out, "list"), "w") as f:
    f.write("\n".join(paths) + "\n")
PY
mkdir -p "$w/mods"
python3 "$w/gen.py" "$w/mods" "$roles" "$per"
printf 'bench passphrase\n' >"$w/pass"
mkdir -p "$w/extra"
python3 "$w/gen.py" "$w/extra" 1 1 99999999 # a new version of one module of the first role

median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.2f", m}'; }
: >"$w/full"
: >"$w/incr"
for i in $(seq "$runs"); do
	a="$w/archive-$i"
	"$tuxtape" -q archive init "$a" --passphrase-file "$w/pass"
	xargs -a "$w/mods/list" "$tuxtape" -q archive add --archive "$a" --
	sync
	/usr/bin/time -f "%e %U %S %M" -o "$w/t" "$tuxtape" -q archive publish --archive "$a" \
		--passphrase-file "$w/pass"
	tail -1 "$w/t" >>"$w/full"
	"$tuxtape" -q archive add --archive "$a" "$w/extra/0-0.ko"
	/usr/bin/time -f "%e %U %S %M" -o "$w/t" "$tuxtape" -q archive publish --archive "$a"
	tail -1 "$w/t" >>"$w/incr"
	n_files=$(ls "$a/repository/metadata" | wc -l)
	rm -rf "$a"
done

echo "archive publish: $((roles * per)) targets across $roles kernel roles, $runs runs"
echo "  full publish (every role new): median $(cut -d' ' -f1 "$w/full" | median) s wall," \
	"$(awk '{print $2 + $3}' "$w/full" | median) s CPU, peak RSS $(cut -d' ' -f4 "$w/full" | median | cut -d. -f1) KiB" \
	"(runs: $(cut -d' ' -f1 "$w/full" | tr '\n' ' '))"
echo "  incremental publish (1 module, 1 role): median $(cut -d' ' -f1 "$w/incr" | median) s wall," \
	"$(awk '{print $2 + $3}' "$w/incr" | median) s CPU"
echo "  metadata files after both: $n_files"
