#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# tuxtape archive channels (tiers): add --channel, promote (add and remove
# channels), list (human and --json), what a node sees after publish
# (tuxtape-tuf-client over file://), and every refusal with its exit code
# and message, the staged state unchanged after each.
. "$SOURCE_ROOT/tests/integration/lib.sh"
: "${TUF_CLIENT:?TUF_CLIENT must point at tuxtape-tuf-client}"

R=6.1.0-54-amd64
A=$T/archive
export TUXTAPE_ARCHIVE_PASSPHRASE='channels test passphrase'

# mkmod OUT NAME SALT: a livepatch-flagged ELF relocatable with a .modinfo for $R
mkmod() {
	printf 'int tt_%s_%s;\n' "$2" "$3" >"$T/m.c" &&
		gcc -c -o "$T/m.o" "$T/m.c" &&
		printf 'license=GPL\0name=%s\0vermagic=%s SMP preempt mod_unload modversions \0livepatch=Y\0srcversion=%s\0' \
			"$2" "$R" "$3" >"$T/modinfo.bin" &&
		objcopy --add-section .modinfo="$T/modinfo.bin" --set-section-flags .modinfo=alloc,readonly \
			"$T/m.o" "$1"
}
arc() { "$TUXTAPE" archive "$@" --archive "$A"; }
# the staged state, to compare before and after a refused command
snap() { cat "$A/staged/roles/$R.json" "$A/staged/changes.json" 2>/dev/null | cksum; }
chans() { jget "$T/out" "[(e['path'].split('/')[1], e['custom']['channels']) for e in d]"; }

mkmod "$T/lp1.ko" lp_one a && mkmod "$T/lp2.ko" lp_two b && mkmod "$T/lp3.ko" lp_three c
ok $? "test modules built (gcc, objcopy)"
run 0 tt archive init "$A"; ok $? "archive init"

# --- add ------------------------------------------------------------------------------
run 0 arc add "$T/lp1.ko" && grep -q "staged '$R/lp_one-1.ko' .*channels stable)" "$T/out"
ok $? "add without --channel: stable only"
run 0 arc add "$T/lp2.ko" --channel beta --channel edge && grep -q "channels beta,edge)" "$T/out"
ok $? "add --channel beta --channel edge"
run 0 arc list --json && [ "$(chans)" = "[('lp_one-1.ko', ['stable']), ('lp_two-2.ko', ['beta', 'edge'])]" ]
ok $? "list --json: each target's channels; patch versions per release across channels"
run 0 arc list && grep -q "^CHANNELS\|PATH .* CHANNELS .*CVES" "$T/out" &&
	grep -q "^$R/lp_two-2.ko  *pending  *-  *beta,edge  *-$" "$T/out"
ok $? "list: a CHANNELS column"

s0=$(snap)
run 2 arc add "$T/lp3.ko" --channel Beta && grep -q "invalid channel 'Beta' in --channel (1 to 32 of \[a-z0-9_-\]" "$T/err"
ok $? "add --channel Beta: usage error, exit 2"
run 2 arc add "$T/lp3.ko" --channel -x && grep -q "invalid channel '-x'" "$T/err"
ok $? "add --channel -x: a leading '-' is refused"
run 2 arc add "$T/lp3.ko" --channel a23456789012345678901234567890123 && grep -q "invalid channel 'a2345" "$T/err"
ok $? "add: a 33-character channel name is refused"
run 2 arc add "$T/lp3.ko" --channel beta --channel beta && grep -q "channel 'beta' given twice" "$T/err"
ok $? "add: a channel given twice is refused"
set --
for i in $(seq 17); do set -- "$@" --channel "c$i"; done
run 2 arc add "$T/lp3.ko" "$@" && grep -q "17 channels, at most 16" "$T/err"
ok $? "add: 17 channels are refused"
[ "$(snap)" = "$s0" ] && [ ! -e "$A/staged/roles/$R.json.tmp" ] && ! grep -q lp_three "$A/staged/roles/$R.json"
ok $? "refused adds staged nothing"

# --- promote --------------------------------------------------------------------------
run 0 arc promote "$R/lp_two-2.ko" --channel stable --remove-channel edge &&
	grep -q "^'$R/lp_two-2.ko' is now in channels beta, stable; run 'tuxtape archive publish'" "$T/out"
ok $? "promote --channel stable --remove-channel edge"
s1=$(snap)
run 0 arc promote "$R/lp_two-2.ko" --channel stable --json &&
	[ "$(jget "$T/out" '(d["path"], d["channels"], d["changed"])')" = "('$R/lp_two-2.ko', ['beta', 'stable'], False)" ] &&
	[ "$(snap)" = "$s1" ]
ok $? "promote into a channel it is in: exit 0, changed false, nothing staged"
run 0 arc list --json && [ "$(chans)" = "[('lp_one-1.ko', ['stable']), ('lp_two-2.ko', ['beta', 'stable'])]" ]
ok $? "list shows the promoted channels"

run 5 arc promote "$R/lp_nine-9.ko" --channel stable && grep -q "no target '$R/lp_nine-9.ko' is staged" "$T/err"
ok $? "promote of an unknown target: exit 5"
run 5 arc promote "5.10.0-1-amd64/x-1.ko" --channel stable && grep -q "no role '5.10.0-1-amd64'" "$T/err"
ok $? "promote of a target of an unknown release: exit 5"
run 2 arc promote "$R/lp_two-2.ko" && grep -q "\-\-channel or \-\-remove-channel is required" "$T/err"
ok $? "promote without a channel: usage error"
run 2 arc promote --channel stable && grep -q "expected one target PATH" "$T/err"
ok $? "promote without a PATH: usage error"
run 2 arc promote "$R/lp_two-2.ko" --channel 'Stable!' && grep -q "invalid channel 'Stable!' in --channel" "$T/err"
ok $? "promote --channel with a bad name: usage error"
run 2 arc promote "$R/lp_two-2.ko" --remove-channel 'b c' && grep -q "invalid channel 'b c' in --remove-channel" "$T/err"
ok $? "promote --remove-channel with a bad name: usage error"
run 2 arc promote "$R/lp_two-2.ko" --channel beta --remove-channel beta && grep -q "channel 'beta' both added and removed" "$T/err"
ok $? "promote: the same channel added and removed is refused"
run 1 arc promote "$R/lp_two-2.ko" --remove-channel beta --remove-channel stable &&
	grep -q "would be in no channel: to withdraw it use 'archive revoke' or 'archive remove'" "$T/err"
ok $? "promote that leaves no channel: exit 1"
set --
for i in $(seq 15); do set -- "$@" --channel "c$i"; done
run 1 arc promote "$R/lp_two-2.ko" "$@" && grep -q "would be in 17 channels, at most 16" "$T/err"
ok $? "promote beyond 16 channels: exit 1"
run 0 arc revoke "$R/lp_one-1.ko" --reason "oops on boot"; ok $? "revoke lp_one"
s2=$(snap)
run 1 arc promote "$R/lp_one-1.ko" --channel beta && grep -q "'$R/lp_one-1.ko' is revoked (oops on boot): its channels stay as they are" "$T/err"
ok $? "promote of a revoked target: exit 1"
[ "$(snap)" = "$s2" ] && run 0 arc list --json &&
	[ "$(chans)" = "[('lp_one-1.ko', ['stable']), ('lp_two-2.ko', ['beta', 'stable'])]" ]
ok $? "refused promotes changed nothing"
run 0 arc promote --help && grep -q "usage: tuxtape archive promote PATH --channel NAME" "$T/out" &&
	grep -q "Exit codes: 0 ok" "$T/out"
ok $? "promote --help"
run 0 tt archive --help && grep -q "promote" "$T/out"; ok $? "archive --help lists promote"

# --- what a node sees -----------------------------------------------------------------
run 0 arc publish; ok $? "publish"
MD=$T/node-meta
run 0 "$TUF_CLIENT" --metadata-dir "$MD" init "$A/repository/metadata/1.root.json" &&
	run 0 "$TUF_CLIENT" --metadata-url "file://$A/repository/metadata/" --metadata-dir "$MD" \
		--target-name "$R/lp_two-2.ko" --target-dir "$T/node-targets" \
		--target-base-url "file://$A/repository/targets/" download &&
	cmp -s "$T/node-targets/$R/lp_two-2.ko" "$T/lp2.ko" &&
	[ "$(jget "$MD/$R.json" "sorted((p.split('/')[1], t['custom']['channels']) for p, t in d['signed']['targets'].items())")" = "[('lp_one-1.ko', ['stable']), ('lp_two-2.ko', ['beta', 'stable'])]" ]
ok $? "the signed role of $R carries each target's channels"
run 0 arc promote "$R/lp_two-2.ko" --channel candidate && run 0 arc list &&
	grep -q "^$R/lp_two-2.ko  *pending  *-  *beta,stable,candidate" "$T/out" &&
	run 0 arc publish && run 0 arc list && grep -q "^$R/lp_two-2.ko  *published " "$T/out"
ok $? "a promote is pending until publish, then published"

done_testing
