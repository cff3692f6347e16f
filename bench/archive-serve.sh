#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Benchmarks `tuxtape archive serve`: requests per second of
# metadata/timestamp.json (the request every node makes on every refresh)
# on loopback, measured with wrk (Debian package wrk) with keep-alive
# connections; medians of RUNS runs (default 3) of SECONDS each (default
# 10).  The server and wrk share the machine's CPUs.
# usage: bench/archive-serve.sh [RUNS] [SECONDS] [CONNECTIONS]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
tuxtape=${TUXTAPE:-$root/build/src/cli/tuxtape}
runs=${1:-3}
secs=${2:-10}
conns=${3:-64}

[ -x "$tuxtape" ] || { echo "build first: make build" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk (make deps)" >&2; exit 1; }
w=$(mktemp -d "${TMPDIR:-/tmp}/tuxtape-bench.XXXXXX")
srv=
trap '[ -z "$srv" ] || kill "$srv" 2>/dev/null; rm -rf "$w"' EXIT

printf 'bench passphrase\n' >"$w/pass"
"$tuxtape" -q archive init "$w/a" --passphrase-file "$w/pass"
"$tuxtape" archive serve --archive "$w/a" --listen 127.0.0.1:0 --json >"$w/serve.json" &
srv=$!
for _i in $(seq 100); do [ -s "$w/serve.json" ] && break; sleep 0.05; done
url=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["url"])' "$w/serve.json")
size=$(stat -c %s "$w/a/repository/metadata/timestamp.json")

median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.0f", m}'; }
: >"$w/rps"
for i in $(seq "$runs"); do
	wrk -t2 -c"$conns" -d"${secs}s" "${url}metadata/timestamp.json" >"$w/wrk.$i"
	awk '/^Requests\/sec:/ {print $2}' "$w/wrk.$i" >>"$w/rps"
	if grep -q "Non-2xx\|Socket errors" "$w/wrk.$i"; then
		echo "errors in run $i:" >&2
		grep "Non-2xx\|Socket errors" "$w/wrk.$i" >&2
	fi
done
echo "archive serve: GET metadata/timestamp.json ($size bytes), wrk -t2 -c$conns, ${secs} s x $runs runs"
echo "  median $(median <"$w/rps") requests/s (runs: $(tr '\n' ' ' <"$w/rps"))"
grep -A2 "Latency" "$w/wrk.$runs" | head -2 | sed 's/^/  /'
