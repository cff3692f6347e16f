#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Kernel registry, applicability gauge and prioritizer through the CLI:
# register with a config and a profile, re-register, judge and rank the
# real sample records, and refuse bad input without registering anything.
. "$(dirname "$0")/lib.sh"

k="$TEST_DATA_DIR/kernel"
src="$T/vulns"
make_sample_repo "$src"
run 0 tt cve sync --source "$src" --kev "$TEST_DATA_DIR/kev/kev-kernel-subset.json"; ok $? "records and KEV synced"

run 0 tt --json kernel add deb61 --version 6.1.100 --release 6.1.0-20-amd64 \
	--config "$k/sample.config" --profile "$k/sample.profile"
ok $? "kernel add with config and profile"
[ "$(jget "$T/out" '(d["replaced"], d["kernel"]["profile_files"], d["kernel"]["arch"], d["kernel"]["profile_source"])')" = "(False, 6, 'x86_64', 'list')" ]
ok $? "registered: 6 profile files, arch from the config"
run 0 tt --json kernel list && [ "$(jget "$T/out" '[x["name"] for x in d]')" = "['deb61']" ]; ok $? "kernel list"
run 0 tt --json kernel show deb61 && jget "$T/out" 'd["config"]' | grep -q "CONFIG_LIVEPATCH=y"
ok $? "kernel show keeps the config"

run 0 tt --json kernel cves deb61; ok $? "kernel cves"
cp "$T/out" "$T/cves.json"
state() { jget "$T/cves.json" "[c['state'] for c in d['cves'] if c['id'] == '$1'][0]"; }
reason() { jget "$T/cves.json" "[c['reason'] for c in d['cves'] if c['id'] == '$1'][0]"; }
[ "$(state CVE-2024-53104)" = affected ] && reason CVE-2024-53104 | grep -q "fixed in 6.1.117 on the 6.1 branch"
ok $? "KEV CVE-2024-53104 affects 6.1.100 (fixed in 6.1.117), with the reason"
[ "$(jget "$T/cves.json" "[c['built'] for c in d['cves'] if c['id'] == 'CVE-2024-53104'][0]")" = module ]
ok $? "uvc_driver.c is compiled as a module"
[ "$(state CVE-2026-22996)" = unknown ] && reason CVE-2026-22996 | grep -q "header drivers/net/ethernet/mellanox/mlx5/core/en.h may be included" &&
	[ "$(jget "$T/cves.json" "[c['unknown_header'] for c in d['cves'] if c['id'] == 'CVE-2026-22996'][0]")" = True ]
ok $? "mlx5 fix touching a header: unknown-header with a list profile, header named"
[ "$(state CVE-2023-54223)" = not-affected ] && reason CVE-2023-54223 | grep -q "introduced in 6.5, after this kernel"
ok $? "a bug of 6.4.5+ and 6.5 does not affect 6.1"
[ "$(state CVE-2026-22981)" = not-affected ]; ok $? "introduced after 6.1: not-affected"
[ "$(jget "$T/cves.json" "len([c for c in d['cves'] if c['id'] == 'CVE-2024-26609'])")" = 0 ]
ok $? "rejected records are not judged"
[ "$(jget "$T/cves.json" 'sum(d["counts"][s] for s in ["not-affected","fixed","not-compiled","affected","unknown"])')" = 98 ]
ok $? "every published CVE gets one state"
run 0 tt --json cve list --kernel deb61 && [ "$(jget "$T/out" 'len(d["cves"])')" = 98 ]; ok $? "cve list --kernel"
run 0 tt --json kernel cves deb61 --state affected &&
	[ "$(jget "$T/out" 'set(c["state"] for c in d["cves"])')" = "{'affected'}" ]
ok $? "--state filter"

run 0 tt --json cve rank --kernel deb61 --explain; ok $? "cve rank --explain"
cp "$T/out" "$T/rank.json"
[ "$(jget "$T/rank.json" '[c["kev"] for c in d[:4]]')" = "[True, True, True, True]" ] &&
	[ "$(jget "$T/rank.json" 'set(c["severity"] for c in d[:4])')" = "{'critical'}" ] &&
	[ "$(jget "$T/rank.json" 'sorted(c["id"] for c in d[:4])')" = "['CVE-2024-50302', 'CVE-2024-53104', 'CVE-2024-53150', 'CVE-2024-53197']" ]
ok $? "the four KEV-listed affected CVEs rank first, critical"
[ "$(jget "$T/rank.json" 'all(abs(sum(f["points"] for f in c["factors"]) - c["score"]) < 0.05 for c in d)')" = True ]
ok $? "factors sum to each score"
[ "$(jget "$T/rank.json" 'all(d[i]["score"] >= d[i+1]["score"] for i in range(len(d)-1))')" = True ]
ok $? "ranked by score"
run 0 tt --json cve rank --kernel deb61 --min-severity critical &&
	[ "$(jget "$T/out" 'set(c["severity"] for c in d)')" = "{'critical'}" ]
ok $? "--min-severity critical"
run 0 tt --json cve rank --kernel deb61 --vendor canonical &&
	[ "$(jget "$T/out" 'all(c["canonical_livepatch"] for c in d)')" = True ]
ok $? "--vendor canonical"
run 0 tt cve rank --kernel deb61 --explain -n 1 && grep -q "kev" "$T/out"; ok $? "human --explain"

# Loaded modules: with a module map, a CVE in a module nobody loads ranks lower.
run 0 tt kernel add deb61 --version 6.1.100 --release 6.1.0-20-amd64 --config "$k/sample.config" \
	--profile "$k/sample.profile" --modules "$k/sample.modules"; ok $? "kernel add --modules"
run 0 tt --json cve rank --kernel deb61 --explain && cp "$T/out" "$T/before.json"
run 0 tt --json kernel modules deb61 "$k/sample.lsmod" && [ "$(jget "$T/out" 'd["modules"]')" = 2 ]
ok $? "kernel modules records an lsmod list"
run 0 tt --json cve rank --kernel deb61 --explain && cp "$T/out" "$T/after.json"
score() { jget "$1" "[c['score'] for c in d if c['id'] == '$2'][0]"; }
build() { jget "$1" "[f['value'] for c in d if c['id'] == '$2' for f in c['factors'] if f['name'] == 'build'][0]"; }
[ "$(python3 -c "print($(score "$T/after.json" CVE-2024-53104) < $(score "$T/before.json" CVE-2024-53104))")" = True ] &&
	build "$T/after.json" CVE-2024-53104 | grep -q "not loaded"
ok $? "uvcvideo not loaded on any node: CVE-2024-53104 ranks lower"
build "$T/after.json" CVE-2024-53150 | grep -q "module, loaded"
ok $? "snd_usb_audio loaded: CVE-2024-53150 is marked loaded"
printf 'not a module list!\n' >"$T/bad.lsmod"
run 1 tt kernel modules deb61 "$T/bad.lsmod" && grep -q "is not a module list" "$T/err"; ok $? "bad module list"
run 5 tt kernel modules nosuch "$k/sample.lsmod"; ok $? "modules of an unknown kernel (5)"

printf '[prio]\nkev_bonus = lots\n' >"$T/bad-prio.conf"
run 1 tt --config "$T/bad-prio.conf" cve rank --kernel deb61 && grep -q "kev_bonus" "$T/err"
ok $? "bad [prio] weight: error names the key"

# Re-registering with a new profile replaces the old one whole.
printf 'drivers/media/usb/uvc/uvc_driver.c builtin\n' >"$T/one.profile"
run 0 tt --json kernel add deb61 --version 6.1.100 --profile "$T/one.profile" &&
	[ "$(jget "$T/out" '(d["replaced"], d["kernel"]["profile_files"])')" = "(True, 1)" ]
ok $? "re-registration replaces the profile"
run 0 tt --json kernel cves deb61 && [ "$(jget "$T/out" "[c['state'] for c in d['cves'] if c['id'] == 'CVE-2024-53150'][0]")" = not-compiled ]
ok $? "no stale profile files survive"

# Bad input: a clear error and nothing registered.
run 1 tt kernel add bad1 --version 6.1.100 --config "$TEST_DATA_DIR/kev/kev-kernel-subset.json" &&
	grep -q "is not a kernel config" "$T/err"; ok $? "a JSON file is not a kernel config"
run 1 tt kernel add bad2 --version six.one && grep -q "version 'six.one' does not parse" "$T/err"
ok $? "unparsable version"
run 2 tt kernel add bad3 --release 6.1.0-54-amd64 && grep -q "give --version" "$T/err"
ok $? "a Debian release alone does not tell the version"
mkdir -p "$T/empty-build"
run 1 tt kernel add bad4 --version 6.1.100 --build-dir "$T/empty-build" && grep -q "o.cmd" "$T/err"
ok $? "a build dir without .cmd files"
printf 'drivers/a.c builtin\n/etc/passwd builtin\n' >"$T/bad.profile"
run 1 tt kernel add bad5 --version 6.1.100 --profile "$T/bad.profile" && grep -q "line 2" "$T/err"
ok $? "a bad profile line is named"
run 0 tt --json kernel list && [ "$(jget "$T/out" 'len(d)')" = 1 ]; ok $? "nothing half-registered"

run 1 tt kernel prepare deb61 && grep -q "has no config: register it with --config" "$T/err"
ok $? "kernel prepare needs the kernel's config"
run 0 tt kernel add deb61 --version 6.1.100 --config "$k/sample.config" --profile "$k/sample.profile"
run 2 tt kernel prepare deb61 && grep -q "not a Debian kernel: give --source-dir" "$T/err"
ok $? "kernel prepare of a non-Debian kernel needs --source-dir"
run 1 tt kernel prepare deb61 --source-dir "$T/nonexistent"; ok $? "kernel prepare with a missing source tree fails"
[ ! -e "$T/data/build/deb61/prepare.json" ]; ok $? "a failed prepare leaves no state file"
run 5 tt kernel prepare nosuch --source-dir "$T"; ok $? "kernel prepare of an unknown kernel (5)"

run 0 tt kernel remove deb61; ok $? "kernel remove"
run 5 tt kernel show deb61; ok $? "removed kernel is gone (5)"
run 5 tt kernel remove deb61; ok $? "removing twice: not found (5)"
run 5 tt cve rank --kernel deb61; ok $? "rank of an unknown kernel (5)"

done_testing
