#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The CLI's help, version, usage errors and exit codes.
. "$(dirname "$0")/lib.sh"

run 0 tt --help && grep -q "^  cve " "$T/out"; ok $? "tuxtape --help lists the cve command"
run 0 tt --version && grep -q "^tuxtape " "$T/out"; ok $? "--version"
run 2 tt; ok $? "no command is a usage error (2)"
run 2 tt frobnicate && grep -q "unknown command 'frobnicate'" "$T/err"; ok $? "unknown command (2)"
run 0 tt cve --help && grep -q "sync" "$T/out"; ok $? "cve --help lists verbs"
for v in sync list show; do
	run 0 tt cve $v --help && grep -q "usage: tuxtape cve $v" "$T/out"; ok $? "cve $v --help"
done
run 2 tt cve frob; ok $? "unknown verb (2)"
run 2 tt cve list --since yesterday && grep -q "invalid date 'yesterday'" "$T/err"; ok $? "bad --since (2)"
run 2 tt cve show nonsense && grep -q "is not a CVE id" "$T/err"; ok $? "bad CVE id (2)"
run 5 tt cve show CVE-2024-0001 && grep -q "not in the database" "$T/err"; ok $? "unknown CVE (5)"
[ ! -s "$T/out" ]; ok $? "nothing on stdout on error"

printf '[core]\nthis is not ini\n' >"$T/bad.conf"
run 1 tt --config "$T/bad.conf" cve list && grep -q "syntax error at line 2" "$T/err"
ok $? "bad config file names the line"
run 1 tt --config "$T/missing.conf" cve list && grep -q "missing.conf" "$T/err"
ok $? "missing --config file is an error"

mkdir -p "$XDG_CONFIG_HOME/tuxtape"
printf '[core]\ndata_dir = %s\n' "$T/from-user-conf" >"$XDG_CONFIG_HOME/tuxtape/tuxtape.conf"
(unset TUXTAPE_CORE_DATA_DIR; run 0 tt cve list) && [ -f "$T/from-user-conf/tuxtape.db" ]
ok $? "XDG config file sets the data directory"
printf '[core]\ndata_dir = %s\n' "$T/from-cli-conf" >"$T/cli.conf"
(unset TUXTAPE_CORE_DATA_DIR; run 0 tt --config "$T/cli.conf" cve list) && [ -f "$T/from-cli-conf/tuxtape.db" ]
ok $? "--config overrides the XDG config file"
run 0 tt cve list && [ -f "$T/data/tuxtape.db" ]
ok $? "TUXTAPE_CORE_DATA_DIR overrides config files"
rm -rf "$XDG_CONFIG_HOME/tuxtape"
(unset TUXTAPE_CORE_DATA_DIR; run 0 tt cve list) && [ -f "$XDG_DATA_HOME/tuxtape/tuxtape.db" ]
ok $? "default data directory is \$XDG_DATA_HOME/tuxtape"

done_testing
