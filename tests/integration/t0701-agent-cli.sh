#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# tuxtape-agent's command line: usage errors, configuration errors, a
# corrupt state, status exit codes, the daemon (run) with SIGHUP and SIGTERM
# and the systemd notify protocol, the report POSTed to report_url, --kmsg.
# The node is a prepared root tree (--root): nothing reaches the host kernel.
. "$SOURCE_ROOT/tests/integration/lib.sh"

: "${TUXTAPE_AGENT:?TUXTAPE_AGENT must point at the tuxtape-agent binary}"
R=6.1.0-54-amd64
N=$T/node
S=$T/state
_pids=
trap 'for p in $_pids; do kill $p 2>/dev/null; wait $p 2>/dev/null; done; cleanup' EXIT

mkdir -p "$N/proc/sys/kernel/random" "$N/sys/kernel/livepatch" "$N/dev"
echo "$R" >"$N/proc/sys/kernel/osrelease"
echo 5d41402a-bc4b-2a76-b971-9d911017c592 >"$N/proc/sys/kernel/random/boot_id"
: >"$N/proc/modules"
: >"$N/dev/kmsg"
printf '[agent]\ngrace_period = 0\n' >"$T/agent.conf"

ag() {
	"$TUXTAPE_AGENT" --config "$T/agent.conf" --state-dir "$S" --root "$N" "$@"
}

# --- usage ------------------------------------------------------------------------------
run 2 "$TUXTAPE_AGENT" && grep -q "no command" "$T/err"; ok $? "no command: exit 2"
run 2 "$TUXTAPE_AGENT" frobnicate && grep -q "unknown command 'frobnicate'" "$T/err"
ok $? "unknown command: exit 2"
run 2 "$TUXTAPE_AGENT" --frob status; ok $? "unknown option: exit 2"
run 2 "$TUXTAPE_AGENT" disable && grep -q "disable takes one NAME" "$T/err"
ok $? "disable without NAME: exit 2"
run 2 "$TUXTAPE_AGENT" status extra && grep -q "status takes no arguments" "$T/err"
ok $? "status with an argument: exit 2"
run 2 "$TUXTAPE_AGENT" --defer-grace check && grep -q "option of apply" "$T/err"
ok $? "--defer-grace outside apply: exit 2"
run 2 "$TUXTAPE_AGENT" --state-dir relative/dir status && grep -q "not an absolute path" "$T/err"
ok $? "relative --state-dir: exit 2"
run 0 "$TUXTAPE_AGENT" --help && grep -q "^usage: tuxtape-agent" "$T/out" && [ ! -s "$T/err" ]
ok $? "--help on stdout, exit 0"
run 0 "$TUXTAPE_AGENT" --version && grep -q "^tuxtape-agent [0-9]" "$T/out"; ok $? "--version"

# --- configuration --------------------------------------------------------------------------
run 1 "$TUXTAPE_AGENT" --config "$T/missing.conf" status && grep -q "cannot read '$T/missing.conf'" "$T/err"
ok $? "--config naming a missing file: exit 1"
printf '[agent]\ninterval = 1h\nwhat = 1\n' >"$T/bad.conf"
run 1 "$TUXTAPE_AGENT" --config "$T/bad.conf" status && grep -q "'$T/bad.conf': unknown key 'agent.what'" "$T/err"
ok $? "an unknown key: exit 1, file and key named"
printf '[agent]\ngrace_period = forever\n' >"$T/bad.conf"
run 1 "$TUXTAPE_AGENT" --config "$T/bad.conf" status && grep -q "agent.grace_period = 'forever'" "$T/err"
ok $? "a bad duration: exit 1"
printf '[agent]\n[broken\n' >"$T/bad.conf"
run 1 "$TUXTAPE_AGENT" --config "$T/bad.conf" status && grep -q "line 2: syntax error" "$T/err"
ok $? "a syntax error: exit 1, line named"
# The example of docs/agent.md is a configuration the agent accepts, key by key.
sed -n '/^```ini$/,/^```$/p' "$SOURCE_ROOT/docs/agent.md" | sed '1d;$d' >"$T/doc.conf"
"$TUXTAPE_AGENT" --config "$T/doc.conf" --state-dir "$T/docstate" --root "$N" status \
	>"$T/out" 2>"$T/err"
rc=$?
grep -q '^channel = ' "$T/doc.conf" && [ "$rc" -ne 1 ] && [ "$rc" -ne 2 ] && ! grep -q "doc.conf" "$T/err"
ok $? "the configuration example of docs/agent.md is accepted (status exit $rc)"
run 1 ag check && grep -q "no trusted root in '$S/tuf'" "$T/err"
ok $? "check without a trusted root: exit 1"
printf '[archive]\nroot = %s\n[agent]\ngrace_period = 0\n' "$T/agent.conf" >"$T/noroot.conf"
run 1 "$TUXTAPE_AGENT" --config "$T/noroot.conf" --state-dir "$S" --root "$N" check &&
	grep -q "cannot install the trusted root '$T/agent.conf'" "$T/err"
ok $? "check with a root file that is no TUF root: exit 1"

# --- status codes -----------------------------------------------------------------------------
run 1 ag status && grep -q "^status: *error (the last check failed)" "$T/out"
ok $? "status after a failed check: exit 1"
rm -rf "$S"
run 5 ag status && grep -q "^status: *stale (no check has run yet)" "$T/out" && grep -q "^kernel: *$R" "$T/out"
ok $? "status on a new node: exit 5 (stale), kernel shown"
run 5 ag status --json && [ "$(jget "$T/out" '(d["code"], d["status"], d["kernel"]["release"], d["last_check"])')" = "(5, 'stale', '$R', None)" ]
ok $? "status --json"
[ ! -e "$S" ]; ok $? "status created nothing"
run 1 ag disable lp_nothing && grep -q "no livepatch 'lp_nothing' is loaded" "$T/err"
ok $? "disable of a patch that is not loaded: exit 1"
run 1 ag rollback && grep -q "no patch loaded by the agent is running" "$T/err"
ok $? "rollback with nothing loaded: exit 1"
run 1 ag unblock lp_nothing && grep -q "nothing named 'lp_nothing' is blocklisted" "$T/err"
ok $? "unblock of something not blocklisted: exit 1"

# --- a corrupt state ----------------------------------------------------------------------------
printf '{"version": 1, "loaded": [' >"$S/state.json"
rm -f "$S/state.json.bak"
run 1 ag apply && grep -q "'$S/state.json': line 1 column .*no good copy" "$T/err"
ok $? "state.json corrupt without a good copy: exit 1, file and position named"
[ "$(cat "$S/state.json")" = '{"version": 1, "loaded": [' ]; ok $? "the damaged file is left as it was"
run 1 ag status --json && [ "$(jget "$T/out" 'd["code"]')" = 1 ]; ok $? "status: exit 1"
printf '{"version": 1}' >"$S/state.json.bak"
run 0 ag apply && grep -q "using the last good copy" "$T/err"
ok $? "with a good copy: it is used and the damage reported"
jget "$S/state.json" 'd["version"]' >/dev/null; ok $? "the state is whole again"

# --- the daemon --------------------------------------------------------------------------------------
# A notify socket like systemd's, to see READY=1, STATUS= and STOPPING=1.
cat >"$T/notify.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as out:
    while True:
        msg = s.recv(4096).decode()
        out.write(msg + "\n")
        out.flush()
EOF
python3 "$T/notify.py" "$T/notify.sock" "$T/notify.log" &
_pids="$_pids $!"
# A report receiver for report_url.
cat >"$T/receiver.py" <<'EOF'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with open(sys.argv[2], "ab") as f:
            f.write(body.replace(b"\n", b" ") + b"\n")
        self.send_response(204)
        self.end_headers()
    def log_message(self, *a):
        pass
srv = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1], "w").write(str(srv.server_address[1]))
srv.serve_forever()
EOF
python3 "$T/receiver.py" "$T/port" "$T/reports" &
_pids="$_pids $!"
for _i in $(seq 100); do [ -s "$T/port" ] && [ -S "$T/notify.sock" ] && break; sleep 0.05; done

printf '[agent]\ninterval = 1\nreport_url = http://127.0.0.1:%s/report\n' \
	"$(cat "$T/port")" >"$T/agent.conf"
NOTIFY_SOCKET=$T/notify.sock "$TUXTAPE_AGENT" --config "$T/agent.conf" --state-dir "$S" --root "$N" \
	--kmsg -v run >"$T/run.out" 2>"$T/run.err" &
_agent=$!
for _i in $(seq 200); do grep -q "^STATUS=" "$T/notify.log" 2>/dev/null && break; sleep 0.1; done
grep -q "^READY=1" "$T/notify.log" && grep -q "^STATUS=no trusted root in '$S/tuf'" "$T/notify.log"
ok $? "run: READY=1, then STATUS= with the check's error"
[ -s "$T/reports" ] && python3 -c 'import json,sys; d=json.loads(open(sys.argv[1]).readline()); assert d["code"] == 1 and d["kernel"]["release"] == sys.argv[2]' "$T/reports" "$R"
ok $? "report_url: the status document was POSTed"
grep -q "^<3>tuxtape-agent: check failed: no trusted root" "$N/dev/kmsg" &&
	grep -q "^<6>tuxtape-agent: started (interval 1s" "$N/dev/kmsg"
ok $? "--kmsg: the errors are in the kernel log too"

sed -i 's/interval = 1$/interval = 2h/' "$T/agent.conf"
kill -HUP $_agent
for _i in $(seq 300); do grep -q "configuration reloaded" "$T/run.err" && break; sleep 0.1; done
grep -q "configuration reloaded" "$T/run.err" && grep -q "^RELOADING=1" "$T/notify.log"
ok $? "SIGHUP reloads the configuration"
printf '[agent]\ninterval = never\n' >"$T/agent.conf"
kill -HUP $_agent
for _i in $(seq 100); do grep -q "keeping the previous configuration" "$T/run.err" && break; sleep 0.1; done
grep -q "keeping the previous configuration" "$T/run.err" && kill -0 $_agent
ok $? "SIGHUP with a broken configuration: the old one is kept, the daemon runs on"
kill -TERM $_agent
wait $_agent
rc=$?
[ $rc -eq 0 ] && grep -q "^STOPPING=1" "$T/notify.log" && grep -q "stopping" "$T/run.err"
ok $? "SIGTERM: clean exit 0, STOPPING=1"

done_testing
