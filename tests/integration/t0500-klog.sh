#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# tuxtape klog check: the real console logs of the VM harness
# (tests/data/klog/*.console), the other log forms, standard input,
# --follow on a growing file, bad input, and a 1 GB log read through a pipe
# in constant memory (256 MB under the sanitizers).
. "$SOURCE_ROOT/tests/integration/lib.sh"

D=$TEST_DATA_DIR/klog

# verdict FILE EXPECTED_EXIT VERDICT PATCH [OPTIONS...]
verdict() {
	_f=$1 _x=$2 _v=$3 _p=$4
	shift 4
	run "$_x" tt klog check --json "$@" "$D/$_f" &&
		[ "$(jget "$T/out" '(d["version"], d["verdict"], d["patch"])')" = "(1, '$_v', $_p)" ]
}

verdict clean.console 0 ok None; ok $? "clean load, transition and unload: ok (exit 0)"
verdict warn.console 6 misbehaved "'klp_warn'"; ok $? "a WARN in the new function: misbehaved klp_warn (exit 6)"
[ "$(jget "$T/out" '(d["how"], d["event"])')" = "('frame', 'warning')" ]; ok $? "tied by a frame in the patch module"
jget "$T/out" '"\n".join(d["evidence"])' | grep -q 'WARNING: CPU: 0 PID: 88 at .*tt_warn_cmdline_show'
ok $? "the evidence holds the WARNING line"
verdict null.console 6 misbehaved "'klp_null'"; ok $? "a NULL dereference: misbehaved klp_null"
[ "$(jget "$T/out" '[e["type"] for e in d["events"] if e["severity"] == "trouble"]')" = "['oops']" ]
ok $? "the console copy and the dmesg dump make one oops"
verdict stall.console 6 misbehaved "'klp_stall'"; ok $? "a stalled transition: misbehaved klp_stall"
jget "$T/out" 'd["reason"]' | grep -q 'tt_stall:[0-9]* (sleeping on function tt_stall_wait)'
ok $? "the reason names the blocking task and function"
verdict symbol.console 6 misbehaved "'bad_symbol'"; ok $? "an unknown symbol in a livepatch: misbehaved"
verdict vermagic.console 0 suspect None; ok $? "a plain module with a wrong vermagic: suspect (exit 0)"
verdict vermagic.console 6 suspect None --fail-on-suspect; ok $? "--fail-on-suspect exits 6"
verdict vermagic.console 6 misbehaved "'bad_vermagic'" --patch bad_vermagic
ok $? "declared with --patch, its load failure is misbehaviour"

for f in warn.kmsg warn.dmesg-T warn.dmesg-x warn.iso warn.syslog warn.journal warn.journal.json \
	warn.rfc5424 warn.short-monotonic; do
	verdict "synthetic/$f" 6 misbehaved "'klp_warn'"; ok $? "form $f: misbehaved klp_warn"
done
verdict synthetic/reports-6.1.log 0 suspect None; ok $? "reports without a livepatch: suspect"
[ "$(jget "$T/out" 'len([e for e in d["events"] if e["severity"] == "trouble"])')" = 11 ]
ok $? "eleven kinds of trouble report"

# standard input and human output
run 6 sh -c '"$TUXTAPE" klog check - < "$1"' sh "$D/warn.console" &&
	grep -q "^verdict: misbehaved klp_warn" "$T/out" && grep -q "implicates 'klp_warn'" "$T/out"
ok $? "standard input ('-'), human output"
run 0 sh -c 'cat "$1" | "$TUXTAPE" klog check' sh "$D/clean.console" && grep -q "^verdict: ok" "$T/out"
ok $? "standard input without FILE"
run 6 tt -q klog check "$D/null.console" && [ ! -s "$T/out" ]; ok $? "-q: only the exit code"
run 6 tt klog check --json --max-events 2 "$D/warn.console" &&
	[ "$(jget "$T/out" '(len(d["events"]), d["events_dropped"] > 0)')" = "(2, True)" ]
ok $? "--max-events caps the events kept"
run 6 tt klog check --json --patch 'klp_warn:tt_warn_cmdline_show,cmdline_proc_show' "$D/warn.console" &&
	[ "$(jget "$T/out" '[p["functions"] for p in d["patches"]]')" = "[['tt_warn_cmdline_show', 'cmdline_proc_show']]" ]
ok $? "--patch NAME:FUNC,FUNC declares the functions"
run 0 tt klog catalog && grep -q "patch-enabling .*livepatch: enabling patch '%s'" "$T/out"
ok $? "the catalogue lists the livepatch messages"
run 0 tt klog catalog --json && jget "$T/out" 'len(d)' | grep -q '^[4-9][0-9]$'
ok $? "the catalogue as JSON"

# bad input: each exits with its code and says what and where
run 1 tt klog check "$T/missing.log" && grep -q "cannot open '$T/missing.log'" "$T/err"
ok $? "a missing file: exit 1, named"
run 1 tt klog check "$T" && grep -q "is a directory" "$T/err"; ok $? "a directory: exit 1"
run 2 tt klog check a b; ok $? "two files: usage (2)"
run 2 tt klog check --bogus "$D/clean.console"; ok $? "an unknown option: usage (2)"
run 2 tt klog check --window -1 "$D/clean.console" && grep -q "invalid window '-1'" "$T/err"
ok $? "a negative window: usage (2)"
run 2 tt klog check --window soon "$D/clean.console"; ok $? "a window that is no number: usage (2)"
run 2 tt klog check --stall 0 "$D/clean.console"; ok $? "a zero stall time: usage (2)"
run 2 tt klog check --patch 'bad/name' "$D/clean.console" && grep -q "invalid --patch 'bad/name'" "$T/err"
ok $? "a patch name that is no module name: usage (2)"
run 2 tt klog check --patch 'klp_a:f,,g' "$D/clean.console"; ok $? "an empty function name: usage (2)"
run 2 tt klog check --year 1800 "$D/clean.console"; ok $? "a year before 1970: usage (2)"
run 2 tt klog check --max-events many "$D/clean.console"; ok $? "a bad event count: usage (2)"
run 2 tt klog frobnicate; ok $? "an unknown verb: usage (2)"
: >"$T/empty.log"
run 0 tt klog check --json "$T/empty.log" && [ "$(jget "$T/out" '(d["verdict"], d["stats"]["lines"])')" = "('ok', 0)" ]
ok $? "an empty log: ok"
python3 -c 'import random, sys; r = random.Random(5); sys.stdout.buffer.write(bytes(r.getrandbits(8) for _ in range(300000)))' >"$T/noise.bin"
run 0 tt klog check --json "$T/noise.bin" && [ "$(jget "$T/out" 'd["verdict"]')" = ok ]
ok $? "binary noise: read to the end, verdict ok"

# --follow: a growing file, judged when interrupted
cp "$D/clean.console" "$T/grow.log"
# not through tt(): $! must be the tuxtape process itself
"$TUXTAPE" klog check --follow --json "$T/grow.log" >"$T/follow.out" 2>"$T/follow.err" &
pid=$!
sleep 1
cat "$D/synthetic/livepatch-6.12.log" >>"$T/grow.log"
n=0
while [ $n -lt 50 ] && ! grep -q '"general-protection-fault"' "$T/follow.out"; do sleep 0.2; n=$((n + 1)); done
grep -q '"general-protection-fault"' "$T/follow.out"; ok $? "--follow reports what is appended"
kill -INT $pid
wait $pid
rc=$?
[ $rc -eq 6 ] && tail -1 "$T/follow.out" >"$T/last.json" &&
	[ "$(jget "$T/last.json" '(d["verdict"], d["patch"])')" = "('misbehaved', 'klp_fix_a')" ]
ok $? "--follow ends on SIGINT with the verdict (exit 6)"
[ "$(grep -c '"type"' "$T/follow.out")" -gt 5 ]; ok $? "--follow --json prints one event per line"

if [ -r /dev/kmsg ] && dd if=/dev/kmsg bs=8192 count=1 iflag=nonblock of=/dev/null 2>/dev/null; then
	tt klog check --json /dev/kmsg >"$T/out" 2>"$T/err"
	rc=$?
	{ [ $rc -eq 0 ] || [ $rc -eq 6 ]; } && [ "$(jget "$T/out" 'd["stats"]["forms"].get("kmsg", 0) > 0')" = True ]
	ok $? "/dev/kmsg is read record by record and the read stops when none is ready"
else
	echo "ok $((_n + 1)) # SKIP /dev/kmsg is not readable here"
	_n=$((_n + 1))
fi

# A large log through a pipe: constant memory.
MB=1024 LIMIT=100000
ldd "$TUXTAPE" 2>/dev/null | grep -q libasan && MB=256 LIMIT=400000
cat >"$T/gen.py" <<'EOF'
import re, sys
mb = int(sys.argv[2])
dump = open(sys.argv[1], encoding="utf-8", errors="replace").read()
dump = dump.split("TUXTAPE-DMESG-BEGIN\n")[1].split("TUXTAPE-DMESG-END")[0]
lines = []
for line in dump.splitlines():
    m = re.match(r"\[\s*(\d+)\.(\d{6})\] (.*)", line)
    if m and not m.group(3).startswith("Linux version"):
        lines.append("[@%s@.%s] %s\n" % (m.group(1), m.group(2), m.group(3)))
template = "".join(lines)
secs = sorted(set(int(k) for k in re.findall(r"@(\d+)@", template)))
period = secs[-1] + 1
out = sys.stdout.buffer
size, base = 0, 0
while size < mb << 20:
    chunk = template
    for k in secs:
        chunk = chunk.replace("@%d@" % k, "%5d" % (base + k))
    chunk = chunk.encode()
    out.write(chunk)
    size += len(chunk)
    base += period
EOF
python3 "$T/gen.py" "$D/warn.console" $MB | /usr/bin/time -f "%M %e" -o "$T/time" \
	"$TUXTAPE" klog check --json - >"$T/out" 2>"$T/err"
rc=$?
[ $rc -eq 6 ] && [ "$(jget "$T/out" '(d["patch"], d["stats"]["bytes"] >= '$MB' << 20)')" = "('klp_warn', True)" ]
ok $? "a ${MB} MB log through a pipe is read to its end"
# time(1) puts "Command exited with non-zero status 6" before its figures
rss=$(tail -1 "$T/time" | cut -d' ' -f1)
echo "# ${MB} MB: peak RSS ${rss} KB, $(tail -1 "$T/time" | cut -d' ' -f2) s"
[ "$rss" -lt $LIMIT ]; ok $? "in constant memory (peak RSS ${rss} KB < $LIMIT KB)"

done_testing
