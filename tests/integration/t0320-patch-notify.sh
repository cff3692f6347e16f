#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Patch build records and their announcement: builds are recorded by the
# history-add helper through the same call `patch build` makes (store, then
# [notify]); `patch list` and `patch show` read them back, human and --json;
# the notify command gets the event on stdin and its variables; a webhook
# receiver on loopback checks the HMAC with Python's own implementation; a
# failing command, a bad [notify] section or an unreachable webhook is a
# warning, never a lost record; unknown ids exit 5, bad arguments 2.
. "$(dirname "$0")/lib.sh"

: "${HISTORY_ADD:?HISTORY_ADD must point at the history-add helper}"
hist() { "$HISTORY_ADD" "$@"; }
secret="s3cr3t-hmac-key-for-t0320"

# A webhook receiver that verifies the signature itself.
mkdir -p "$T/hooks"
cat >"$T/receiver.py" <<'EOF'
import hashlib, hmac, http.server, os, sys
portfile, outdir, secret = sys.argv[1:4]
class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        want = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        good = hmac.compare_digest(want, self.headers.get("X-TuxTape-Signature", ""))
        n = len([f for f in os.listdir(outdir) if f.endswith(".json")])
        with open("%s/%d.json" % (outdir, n), "wb") as f:
            f.write(body)
        with open("%s/%d.meta" % (outdir, n), "w") as f:
            f.write("%s %s %s %s sig=%s\n" % (self.command, self.path,
                    self.headers.get("Content-Type"), self.headers.get("X-TuxTape-Event"),
                    "good" if good else "bad"))
        self.send_response(204)
        self.end_headers()
s = http.server.HTTPServer(("127.0.0.1", 0), Handler)
with open(portfile + ".tmp", "w") as f:
    f.write(str(s.server_port))
os.rename(portfile + ".tmp", portfile)
s.serve_forever()
EOF
python3 "$T/receiver.py" "$T/port" "$T/hooks" "$secret" &
server=$!
trap 'kill $server 2>/dev/null; cleanup' EXIT
for i in $(seq 50); do [ -f "$T/port" ] && break; sleep 0.1; done
hook="http://127.0.0.1:$(cat "$T/port")/hooks/tuxtape"

printf 'hello\n' >"$T/0001-uvc-fix.patch"
printf 'second\n' >"$T/0002-uvc-more.patch"
printf 'not really a module\n' >"$T/livepatch_uvc.ko"
sha() { sha256sum "$1" | cut -d' ' -f1; }

# The notify command keeps its stdin and variables; the kernel name is data, not shell.
cat >"$T/notify.conf" <<EOF
[notify]
command = cat >"$T/event.json"; printf '%s|%s|%s|%s\n' "\$TUXTAPE_EVENT" "\$TUXTAPE_KERNEL" "\$TUXTAPE_STATUS" "\$TUXTAPE_ID" >"$T/event.env"
webhook = $hook
webhook_secret = $secret
on = refused,failed
EOF

run 0 tt patch list && [ ! -s "$T/out" ] && grep -q "no patch builds recorded" "$T/err"
ok $? "patch list with no builds: empty, says so on stderr"
run 0 tt --json patch list && [ "$(jget "$T/out" 'd')" = "[]" ]; ok $? "patch list --json: []"

# 1: refused, announced through both channels.
run 0 hist --config "$T/notify.conf" --kernel deb61 --status refused --name livepatch_uvc \
	--cve CVE-2024-53104 --cve CVE-2023-52434 \
	--patch "$T/0001-uvc-fix.patch" --patch "$T/0002-uvc-more.patch" \
	--reason "drivers/media/usb/uvc/uvc_driver.c:uvc_parse_format:changes data 'uvc_fmts'" \
	--reason "__bug_table:entry of a removed function" \
	--report '{"livepatchable": false, "refusals": 2}' --time 1735787045
ok $? "record a refused build"
[ "$(cat "$T/out")" = 1 ] && [ ! -s "$T/err" ]; ok $? "first build gets id 1, nothing on stderr"
[ "$(cat "$T/event.env")" = "patch.refused|deb61|refused|1" ]
ok $? "command: TUXTAPE_EVENT, TUXTAPE_KERNEL, TUXTAPE_STATUS, TUXTAPE_ID"
[ "$(jget "$T/event.json" '(d["version"], d["event"], d["id"], d["kernel"], d["name"], d["cves"], d["time"], d["module"])')" = \
	"(1, 'patch.refused', 1, 'deb61', 'livepatch_uvc', ['CVE-2024-53104', 'CVE-2023-52434'], '2025-01-02T03:04:05Z', None)" ]
ok $? "command: the event JSON on stdin"
[ "$(jget "$T/event.json" '[(p["file"], p["sha256"]) for p in d["patches"]]')" = \
	"[('0001-uvc-fix.patch', '$(sha "$T/0001-uvc-fix.patch")'), ('0002-uvc-more.patch', '$(sha "$T/0002-uvc-more.patch")')]" ]
ok $? "event: patches in order, with the SHA256 of their content"
[ "$(jget "$T/event.json" '[(r["what"], r["reason"]) for r in d["reasons"]]')" = \
	"[('drivers/media/usb/uvc/uvc_driver.c', \"uvc_parse_format:changes data 'uvc_fmts'\"), ('__bug_table', 'entry of a removed function')]" ]
ok $? "event: reasons with what and why"
[ "$(cat "$T/hooks/0.meta")" = "POST /hooks/tuxtape application/json patch.refused sig=good" ]
ok $? "webhook: POST, application/json, X-TuxTape-Event, HMAC-SHA256 verified by the receiver"
[ "$(jget "$T/hooks/0.json" 'd')" = "$(jget "$T/event.json" 'd')" ]
ok $? "webhook: the same event as the command"

# 2: built, not in "on": recorded, not announced.
rm -f "$T/event.json"
run 0 hist --config "$T/notify.conf" --kernel deb61 --status built --name livepatch_uvc \
	--cve CVE-2024-53104 --patch "$T/0001-uvc-fix.patch" --module "$T/livepatch_uvc.ko" \
	--report '{"livepatchable": true}' --time 1735787100
[ "$(cat "$T/out")" = 2 ] && [ ! -e "$T/event.json" ] && [ ! -e "$T/hooks/1.json" ]
ok $? "a built record is not announced with on = refused,failed"

# 3: failed, with a command that fails and a webhook nobody answers.
port_closed=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
cat >"$T/failing.conf" <<EOF
[notify]
command = echo starting; echo 'smtp: relay refused' >&2; exit 4
webhook = http://tuxtape:pa55word@127.0.0.1:$port_closed/hook
webhook_secret = $secret
webhook_attempts = 2
webhook_timeout = 2
EOF
run 0 hist --config "$T/failing.conf" --kernel deb512 --status failed \
	--patch "$T/0002-uvc-more.patch" --reason "kernel build:make exited with status 2" \
	--time 1735787200
ok $? "a failing announcement does not fail the recording"
[ "$(cat "$T/out")" = 3 ] &&
	grep -q "^warning: cannot announce patch build 3: notify command exited with status 4: smtp: relay refused, ignoring$" "$T/err"
ok $? "failing command: a warning with its exit status and last line"
grep -q "^warning: cannot announce patch build 3: notify webhook: POST 'http://\*\*\*@127.0.0.1:$port_closed/hook' failed: .* after 2 attempts, ignoring$" "$T/err"
ok $? "unreachable webhook: a warning after the retries, credentials redacted"
! grep -q -e "$secret" -e pa55word "$T/err"; ok $? "no secret on stderr"

# 4: a [notify] section that does not parse.
printf '[notify]\ncommand = true\non = refused,exploded\n' >"$T/bad.conf"
run 0 hist --config "$T/bad.conf" --kernel deb61 --status refused --time 1735787300 &&
	[ "$(cat "$T/out")" = 4 ] &&
	grep -q "^warning: cannot announce patch build 4: \[notify\] notify.on: unknown outcome 'exploded' (expected built, refused, failed), ignoring$" "$T/err"
ok $? "bad [notify]: recorded anyway, the key named in a warning"

# 5: no [notify] at all: quiet.
run 0 hist --kernel deb61 --status refused --cve CVE-2024-50302 --time 1735787400 &&
	[ "$(cat "$T/out")" = 5 ] && [ ! -s "$T/err" ]
ok $? "without [notify]: recorded, nothing announced, nothing said"

# patch list
run 0 tt patch list; ok $? "patch list"
[ "$(wc -l <"$T/out")" -eq 5 ] && [ "$(head -1 "$T/out" | awk '{print $1}')" = 5 ] &&
	[ "$(tail -1 "$T/out" | awk '{print $1}')" = 1 ]
ok $? "patch list: five lines, newest first"
grep -q "^     1  2025-01-02T03:04:05Z  deb61  refused  CVE-2024-53104,CVE-2023-52434  2 patches$" "$T/out"
ok $? "patch list: id, time, kernel, status, CVEs, patches"
grep -q "^     3  2025-01-02T03:06:40Z  deb512  failed   -  1 patch$" "$T/out"
ok $? "patch list: a record without CVEs"
run 0 tt --json patch list && [ "$(jget "$T/out" '[r["id"] for r in d]')" = "[5, 4, 3, 2, 1]" ] &&
	[ "$(jget "$T/out" '"report" in d[0]')" = False ]
ok $? "patch list --json: all records, newest first, no reports"
run 0 tt patch list --json --kernel deb61 --status refused &&
	[ "$(jget "$T/out" '[r["id"] for r in d]')" = "[5, 4, 1]" ]
ok $? "patch list --kernel --status"
run 0 tt patch list --json --cve CVE-2024-53104 && [ "$(jget "$T/out" '[r["id"] for r in d]')" = "[2, 1]" ]
ok $? "patch list --cve"
run 0 tt patch list --json --status built && [ "$(jget "$T/out" '[(r["id"], r["module"]["sha256"]) for r in d]')" = "[(2, '$(sha "$T/livepatch_uvc.ko")')]" ]
ok $? "patch list --status built, with the module's SHA256"
run 0 tt patch list --json --since 2025-01-02T03:06:00Z --limit 2 &&
	[ "$(jget "$T/out" '[r["id"] for r in d]')" = "[5, 4]" ]
ok $? "patch list --since --limit"
run 0 tt patch list --json --since 2030-01-01 && [ "$(jget "$T/out" 'd')" = "[]" ]
ok $? "patch list --since in the future: []"

# patch show
run 0 tt patch show 1; ok $? "patch show 1"
cat >"$T/want" <<EOF
Build:    1
Kernel:   deb61
Name:     livepatch_uvc
Status:   refused
Time:     2025-01-02T03:04:05Z
CVEs:     CVE-2024-53104, CVE-2023-52434
Patches:
  $(sha "$T/0001-uvc-fix.patch")  0001-uvc-fix.patch
  $(sha "$T/0002-uvc-more.patch")  0002-uvc-more.patch
Reasons:
  drivers/media/usb/uvc/uvc_driver.c: uvc_parse_format:changes data 'uvc_fmts'
  __bug_table: entry of a removed function
Module:   -
EOF
diff -u "$T/want" "$T/out" >&2; ok $? "patch show: the whole record for humans"
run 0 tt patch show 2 && grep -q "^Module:   $T/livepatch_uvc.ko$" "$T/out" &&
	grep -q "^          sha256 $(sha "$T/livepatch_uvc.ko")$" "$T/out"
ok $? "patch show: a built module with its SHA256"
run 0 tt patch show 1 --json &&
	[ "$(jget "$T/out" '(d["status"], d["created_at"], d["report"])')" = "('refused', 1735787045, {'livepatchable': False, 'refusals': 2})" ]
ok $? "patch show --json: status, created_at, the report"
[ "$(jget "$T/out" '{k: d[k] for k in ["version","event","id","kernel","name","cves","patches","reasons","module","time"]}')" = \
	"$(jget "$T/hooks/0.json" 'd')" ]
ok $? "patch show --json holds exactly the event that was announced"
run 0 tt --json patch show 3 && [ "$(jget "$T/out" '(d["event"], d["report"], d["cves"])')" = "('patch.failed', None, [])" ]
ok $? "global --json, a record without report or CVEs"

# The documented way to try the notify command on a recorded build.
run 0 sh -c "\"\$TUXTAPE\" patch show 1 --json | TUXTAPE_EVENT=patch.refused TUXTAPE_KERNEL=deb61 TUXTAPE_STATUS=refused TUXTAPE_ID=1 sh -c 'cat >\"$T/tried.json\"; echo \"\$TUXTAPE_EVENT\"'" &&
	[ "$(cat "$T/out")" = patch.refused ] && [ "$(jget "$T/tried.json" 'd["event"]')" = patch.refused ]
ok $? "patch show ID --json piped into a notify command"

# Unknown ids and bad arguments.
run 5 tt patch show 99 && grep -q "^error: patch build 99 does not exist (see 'tuxtape patch list')$" "$T/err" &&
	[ ! -s "$T/out" ]
ok $? "patch show of an unknown id: exit 5, nothing on stdout"
run 5 tt --json patch show 9223372036854775807; ok $? "patch show of the largest id: exit 5"
run 2 tt patch show abc && grep -q "invalid build ID 'abc'" "$T/err"; ok $? "patch show abc: usage error"
run 2 tt patch show 0; ok $? "patch show 0: usage error"
run 2 tt patch show -- -1; ok $? "patch show -1: usage error"
run 2 tt patch show 9223372036854775808; ok $? "patch show of an id beyond 2^63-1: usage error"
run 2 tt patch show; ok $? "patch show without an id: usage error"
run 2 tt patch show 1 2; ok $? "patch show with two ids: usage error"
run 2 tt patch list --status weird && grep -q "unknown status 'weird'" "$T/err"; ok $? "patch list --status weird"
run 2 tt patch list --limit 0; ok $? "patch list --limit 0"
run 2 tt patch list --since yesterday && grep -q "invalid date 'yesterday'" "$T/err"; ok $? "patch list --since yesterday"
run 2 tt patch list extra; ok $? "patch list with an argument"
run 0 tt patch list --help && grep -q "^usage: tuxtape patch list" "$T/out"; ok $? "patch list --help"
run 0 tt patch show --help && grep -q "^usage: tuxtape patch show ID" "$T/out"; ok $? "patch show --help"
run 0 tt patch --help && grep -q "^  list " "$T/out" && grep -q "^  show " "$T/out"; ok $? "patch --help lists list and show"

done_testing
