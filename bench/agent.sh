#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Benchmarks the fleet agent (tuxtape-agent) against a local archive made by
# `tuxtape archive` and served by `tuxtape archive serve` on loopback; the
# node is a prepared root tree with the simulated kernel (--root), so nothing
# is loaded into this machine's kernel.
#   - idle RSS of `tuxtape-agent run` after its first cycle (VmRSS, split
#     into anonymous and file pages; PSS and private memory from
#     smaps_rollup), and its peak during the cycle (VmHWM), median of RUNS
#     daemons.  Between checks the daemon drops its mappings of clean
#     library pages (src/agent/agent-idle.h), so the idle figure is its data
#     plus what it touched since;
#   - CPU (user + sys) of one cycle with nothing new in the daemon (interval
#     1 s; the daemon logs each check's getrusage() difference with -v, the
#     release of idle memory included, and the next check pays the page
#     faults that bring the libraries back; the first cycle, which sets up
#     libcurl and OpenSSL, is left out), median of CYCLES cycles;
#   - CPU of a whole `tuxtape-agent check` process with nothing new (process
#     start, configuration, TLS/HTTP library set-up included), median of RUNS.
# Printed beside what the reference notes record of the commercial agents.
# usage: bench/agent.sh [RUNS] [CYCLES]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
tuxtape=${TUXTAPE:-$root/build/src/cli/tuxtape}
agent=${TUXTAPE_AGENT:-$root/build/src/agent/tuxtape-agent}
runs=${1:-5}
cycles=${2:-21}
R=6.1.0-54-amd64

[ -x "$tuxtape" ] && [ -x "$agent" ] || { echo "build first: make build" >&2; exit 1; }
w=$(mktemp -d "${TMPDIR:-/tmp}/tuxtape-bench.XXXXXX")
srv=
daemon=
trap '[ -z "$daemon" ] || kill $daemon 2>/dev/null; [ -z "$srv" ] || kill $srv 2>/dev/null; rm -rf "$w"' EXIT
export TUXTAPE_ARCHIVE_PASSPHRASE=bench HOME="$w/home" XDG_DATA_HOME="$w/home/data"

median() {
	sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'
}

# A livepatch-flagged module for $R, and an archive serving it.
printf 'int tt_bench;\n' >"$w/m.c"
gcc -c -o "$w/m.o" "$w/m.c"
printf 'license=GPL\0name=lp_bench\0vermagic=%s SMP preempt mod_unload modversions \0livepatch=Y\0' "$R" >"$w/mi"
objcopy --add-section .modinfo="$w/mi" --set-section-flags .modinfo=alloc,readonly "$w/m.o" "$w/lp.ko"
"$tuxtape" archive init "$w/archive" >/dev/null
"$tuxtape" archive add --archive "$w/archive" "$w/lp.ko" >/dev/null
"$tuxtape" archive publish --archive "$w/archive" >/dev/null
"$tuxtape" archive serve --archive "$w/archive" --listen 127.0.0.1:0 --json >"$w/serve.json" 2>/dev/null &
srv=$!
for _ in $(seq 100); do [ -s "$w/serve.json" ] && break; sleep 0.05; done
url=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["url"])' "$w/serve.json")

# The node: $R, the patch loaded by a first check.
n=$w/node
mkdir -p "$n/proc/sys/kernel/random" "$n/sys/kernel/livepatch" "$n/dev"
echo "$R" >"$n/proc/sys/kernel/osrelease"
cat /proc/sys/kernel/random/boot_id >"$n/proc/sys/kernel/random/boot_id"
: >"$n/proc/modules"
: >"$n/dev/kmsg"
cat >"$w/agent.conf" <<EOF
[archive]
url = $url
root = $w/archive/repository/metadata/1.root.json
[agent]
interval = 1
grace_period = 0
EOF
ag() {
	"$agent" --config "$w/agent.conf" --state-dir "$w/state" --root "$n" -q "$@"
}
ag check >/dev/null

# Idle RSS of the daemon after its first cycle.
rss=$w/rss
: >"$rss"
for i in $(seq "$runs"); do
	sed -i 's/^interval = .*/interval = 1h/' "$w/agent.conf"
	before=$(stat -c %Y.%N "$w/state/report.json" 2>/dev/null || echo 0)
	"$agent" --config "$w/agent.conf" --state-dir "$w/state" --root "$n" -q run &
	daemon=$!
	for _ in $(seq 200); do
		[ "$(stat -c %Y.%N "$w/state/report.json")" != "$before" ] && break
		sleep 0.05
	done
	sleep 0.2
	{
		awk '/^VmRSS/ { printf "%s ", $2 }' "/proc/$daemon/status"
		awk '/^Pss:/ { p = $2 } /^Private_(Clean|Dirty)/ { v += $2 } END { printf "%s %s ", p, v }' \
			"/proc/$daemon/smaps_rollup"
		awk '/^RssAnon/ { a = $2 } /^RssFile/ { f = $2 } /^VmHWM/ { h = $2 } END { print a, f, h }' \
			"/proc/$daemon/status"
	} >>"$rss"
	kill $daemon
	wait $daemon || true
	daemon=
done
idle_kb=$(awk '{ print $1 }' "$rss" | median)
pss_kb=$(awk '{ print $2 }' "$rss" | median)
private_kb=$(awk '{ print $3 }' "$rss" | median)
anon_kb=$(awk '{ print $4 }' "$rss" | median)
file_kb=$(awk '{ print $5 }' "$rss" | median)
peak_kb=$(awk '{ print $6 }' "$rss" | median)

# CPU per cycle: the daemon logs each check's CPU time (getrusage, -v).
sed -i 's/^interval = .*/interval = 1/' "$w/agent.conf"
"$agent" --config "$w/agent.conf" --state-dir "$w/state" --root "$n" -v run 2>"$w/run.log" &
daemon=$!
for _ in $(seq $((cycles * 30))); do
	[ "$(grep -c 'check took' "$w/run.log")" -ge "$cycles" ] && break
	sleep 0.1
done
kill $daemon
wait $daemon || true
daemon=
sed -n 's/.*check took \([0-9.]*\) ms CPU/\1/p' "$w/run.log" | tail -n +2 >"$w/cycles"
cycle_ms=$(median <"$w/cycles")
ncycles=$(wc -l <"$w/cycles")

# CPU of a whole `check` process.
: >"$w/checks"
for i in $(seq "$runs"); do
	python3 - "$agent" "$w" "$n" >>"$w/checks" <<'EOF'
import resource, subprocess, sys
agent, w, n = sys.argv[1:4]
# deltas: the python3 launcher may have waited for children of its own before
t = resource.getrusage(resource.RUSAGE_CHILDREN)
subprocess.run([agent, "--config", w + "/agent.conf", "--state-dir", w + "/state", "--root", n,
                "-q", "check"], stdout=subprocess.DEVNULL, check=True)
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(int((u.ru_utime + u.ru_stime - t.ru_utime - t.ru_stime) * 1e6))
EOF
done
check_us=$(median <"$w/checks")

echo "tuxtape-agent $("$agent" --version | cut -d' ' -f2), archive over HTTP on loopback, one patch loaded, nothing new"
printf '%-44s %10s   %s\n' "measure" "tuxtape" "target (issue 7)"
printf '%-44s %7.1f MB   <= 8 MB\n' "idle RSS after a cycle (VmRSS, median of $runs)" "$(echo "$idle_kb" | awk '{ print $1 / 1024 }')"
printf '%-44s %7.1f MB\n' "  of it PSS (shared pages divided)" "$(echo "$pss_kb" | awk '{ print $1 / 1024 }')"
printf '%-44s %7.1f MB\n' "  of it private (only this process)" "$(echo "$private_kb" | awk '{ print $1 / 1024 }')"
printf '%-44s %7.1f MB\n' "  of it anonymous (RssAnon)" "$(echo "$anon_kb" | awk '{ print $1 / 1024 }')"
printf '%-44s %7.1f MB\n' "  of it file pages (RssFile)" "$(echo "$file_kb" | awk '{ print $1 / 1024 }')"
printf '%-44s %7.1f MB\n' "peak RSS, during the cycle (VmHWM)" "$(echo "$peak_kb" | awk '{ print $1 / 1024 }')"
printf '%-44s %7.2f ms   <= 10 ms\n' "CPU of one cycle in the daemon (median of $ncycles)" "$cycle_ms"
printf '%-44s %7.2f ms\n' "CPU of a 'check' process (median of $runs)" "$(echo "$check_us" | awk '{ print $1 / 1e3 }')"
echo
echo "Peers, as the reference notes record them (documented by vendor; /work/shared/reference/"
echo "tuxtape-and-fleet-peers.md, section 2.2):"
echo "  Canonical Livepatch (a Go daemon, snap): checks every hour; RSS and CPU per check: not"
echo "    documented in the reference notes"
echo "  KernelCare (kcarectl, Python): checks every 4 hours; RSS and CPU per check: not"
echo "    documented in the reference notes"
