#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Benchmarks a TUF client refresh with nothing new against a repository
# shaped like the archive (targets.json delegating to ROLES kernel roles with
# one shared key, consistent snapshots, ecdsa-sha2-nistp256 keys) served on
# loopback by tests/integration/tuf-serve.py:
#   - the HTTP requests one refresh makes (counted by the client and by the
#     server's log);
#   - the CPU time (user + sys, getrusage) of one refresh inside a process
#     that already refreshed once (libcurl, OpenSSL and the parse cache set
#     up), by one client and by a new client each time (as the agent does),
#     medians of N refreshes (tuf-helper refresh-bench);
#   - the CPU time of a whole `tuxtape-tuf-client refresh` process (start,
#     dynamic linking, library set-up included), median of RUNS runs.
# usage: bench/tuf-refresh.sh [N] [RUNS] [ROLES]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$root/build}
client=${TUF_CLIENT:-$build/src/tuf/tuxtape-tuf-client}
export TUF_HELPER=${TUF_HELPER:-$build/tests/integration/tuf-helper}
n=${1:-200}
runs=${2:-21}
roles=${3:-500}
py=$(command -v /usr/bin/python3 || command -v python3)

[ -x "$client" ] && [ -x "$TUF_HELPER" ] || { echo "build first: make build" >&2; exit 1; }
w=$(mktemp -d "${TMPDIR:-/tmp}/tuxtape-bench.XXXXXX")
srv=
trap '[ -z "$srv" ] || kill $srv 2>/dev/null; rm -rf "$w"' EXIT

median() {
	sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'
}

# The repository: ROLES delegations sharing one key, like the archive's kernel roles.
repo() {
	"$py" "$root/tests/integration/tuf-repo.py" "$w/r" "$@"
}
repo init >/dev/null
repo delegate targets 6.1.0-0-amd64 --paths '6.1.0-0-amd64/*' --terminating
"$py" - "$w/r/state.json" "$roles" <<'EOF'
import json, sys
p, n = sys.argv[1], int(sys.argv[2])
s = json.load(open(p))
roles = s["roles"]["targets"]["body"]["delegations"]["roles"]
first = roles[0]
for i in range(1, n):
    name = "6.1.0-%d-amd64" % i
    roles.append(dict(first, name=name, paths=[name + "/*"]))
json.dump(s, open(p, "w"))
EOF
repo publish targets && repo snapshot >/dev/null

port=$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$py" "$root/tests/integration/tuf-serve.py" "$w" "$port" "$w/http.log" >/dev/null 2>&1 &
srv=$!
"$py" - "$port" <<'EOF'
import socket, sys, time
for _ in range(100):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()
        break
    except OSError:
        time.sleep(0.1)
EOF
url=http://127.0.0.1:$port/r/repository/metadata/
"$client" --metadata-dir "$w/md" init "$w/r/repository/metadata/1.root.json"
"$client" --metadata-dir "$w/md" --metadata-url "$url" refresh

: >"$w/http.log"
"$client" --metadata-dir "$w/md" --metadata-url "$url" refresh
echo "requests of one refresh with nothing new: $(wc -l <"$w/http.log") ($(tr '\n' ' ' <"$w/http.log"| sed "s|/r/repository/metadata/||g"))"
echo "targets.json: $(wc -c <"$w/md/targets.json") bytes, $roles delegated roles"

set -- $("$TUF_HELPER" refresh-bench "$w/md" "$url" "$n")
echo "CPU of a refresh in a warm process, same client: median $1 us of $n"
echo "CPU of a refresh in a warm process, new client each time: median $2 us of $n (requests: $3)"

"$py" - "$runs" "$client" "$w/md" "$url" <<'EOF'
import resource, statistics, subprocess, sys
runs = int(sys.argv[1])
argv = [sys.argv[2], "--metadata-dir", sys.argv[3], "--metadata-url", sys.argv[4], "refresh"]
t = []
for _ in range(runs):
    a = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, check=True)
    b = resource.getrusage(resource.RUSAGE_CHILDREN)
    t.append((b.ru_utime - a.ru_utime + b.ru_stime - a.ru_stime) * 1e6)
print("CPU of a whole refresh process: median %d us of %d runs" % (statistics.median_low(t), runs))
EOF
