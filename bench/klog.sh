#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Benchmarks the kernel log parser (tuxtape klog check):
#   - a large mixed log (SIZE_MB, default 1024): the dmesg dumps of every real
#     console of tests/data/klog (boots, livepatch lifecycles, a WARN, an
#     Oops, a stalled transition, load failures) and the synthetic reports of
#     every kind, repeated with advancing timestamps; --json to /dev/null.
#     Throughput against wall time and against CPU time (user + sys: the
#     machine is shared), peak RSS; medians of RUNS runs (default 3).
#   - --follow on a growing file: 8 appends of SIZE_MB/8 each; the RSS of the
#     follower after the first and after the last append (constant memory).
# usage: bench/klog.sh [SIZE_MB] [RUNS]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
tuxtape=${TUXTAPE:-$root/build/src/cli/tuxtape}
mb=${1:-1024}
runs=${2:-3}

[ -x "$tuxtape" ] || { echo "build first: make build" >&2; exit 1; }
w=$(mktemp -d "${TMPDIR:-/tmp}/tuxtape-bench.XXXXXX")
trap 'rm -rf "$w"' EXIT

cat >"$w/gen.py" <<'EOF'
import re, sys
root, mb = sys.argv[1], int(sys.argv[2])
d = root + "/tests/data/klog/"
lines, base = [], 0
# each real dump is one boot; the synthetic reports follow in the last one
for name in ("clean", "warn", "null", "stall", "symbol", "vermagic"):
    text = open(d + name + ".console", encoding="utf-8", errors="replace").read()
    dump = text.split("TUXTAPE-DMESG-BEGIN\n")[1].split("TUXTAPE-DMESG-END")[0]
    lines += dump.splitlines()
lines += open(d + "synthetic/reports-6.1.log", encoding="utf-8").read().splitlines()
tpl = []
for line in lines:
    m = re.match(r"\[\s*(\d+)\.(\d{6})\] (.*)", line)
    if m:
        tpl.append("[@%s@.%s] %s\n" % (m.group(1), m.group(2), m.group(3)))
template = "".join(tpl)
secs = sorted(set(int(k) for k in re.findall(r"@(\d+)@", template)), reverse=True)
out = sys.stdout.buffer
size, base = 0, 0
while size < mb << 20:
    chunk = template
    for k in secs:
        chunk = chunk.replace("@%d@" % k, "%5d" % (base + k))
    chunk = chunk.encode()
    out.write(chunk)
    size += len(chunk)
    base += 1000
EOF
python3 "$w/gen.py" "$root" "$mb" >"$w/big.log"
bytes=$(stat -c %s "$w/big.log")
cat "$w/big.log" >/dev/null # warm the page cache

median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.2f", m}'; }
for i in $(seq "$runs"); do
	/usr/bin/time -f "%e %U %S %M" -o "$w/t" "$tuxtape" klog check --json "$w/big.log" \
		>/dev/null 2>&1 || true
	tail -1 "$w/t"
done >"$w/times"
wall=$(cut -d' ' -f1 "$w/times" | median)
cpu=$(awk '{print $2 + $3}' "$w/times" | median)
rss=$(cut -d' ' -f4 "$w/times" | median)
echo "mixed log: $((bytes >> 20)) MB, $(wc -l <"$w/big.log") lines"
awk -v b="$bytes" -v w="$wall" -v c="$cpu" -v r="$rss" 'BEGIN {
	printf "klog check --json: %.2f s wall (%.0f MB/s), %.2f s CPU (%.0f MB/s), peak RSS %.0f MB\n",
		w, b / 1048576 / w, c, b / 1048576 / c, r / 1024 }'

# --follow: the follower's memory while the file grows
: >"$w/grow.log"
"$tuxtape" klog check --follow "$w/grow.log" >/dev/null 2>&1 &
pid=$!
piece=$((bytes / 8))
rss_of() { awk '/^VmRSS:/ {print $2}' "/proc/$pid/status"; }
for i in 0 1 2 3 4 5 6 7; do
	dd if="$w/big.log" bs=1M iflag=skip_bytes,count_bytes skip=$((i * piece)) count=$piece \
		status=none >>"$w/grow.log"
	# wait until the follower caught up (it polls every 0.2 s)
	while [ "$(awk '/^rchar:/ {print $2}' "/proc/$pid/io" 2>/dev/null || echo 0)" -lt \
		"$(stat -c %s "$w/grow.log")" ] 2>/dev/null; do
		sleep 0.2
	done
	[ $i -eq 0 ] && first=$(rss_of)
done
last=$(rss_of)
kill -INT $pid
wait $pid || true
echo "klog check --follow: RSS $((first / 1024)) MB after the first $((piece >> 20)) MB," \
	"$((last / 1024)) MB after $(((piece * 8) >> 20)) MB"
