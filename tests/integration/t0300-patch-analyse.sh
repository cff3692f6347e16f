#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# tuxtape kernel prepare + patch analyse through the CLI, on a small fake
# kernel tree whose Makefile stands in for kbuild (olddefconfig,
# modules_prepare and single-object builds with O= and KCFLAGS).  The real
# Debian tree takes minutes and is exercised by hand (see the issue notes).
. "$(dirname "$0")/lib.sh"

command -v gcc-12 >/dev/null 2>&1 || { echo "1..0 # SKIP the sample config names gcc-12"; exit 0; }
src="$T/linux"
mkdir -p "$src/drv" "$src/include" "$src/fs"
cat >"$src/Makefile" <<'MK'
O ?= .
.SUFFIXES:
.PHONY: FORCE olddefconfig modules_prepare
FORCE:
olddefconfig:
	@true
modules_prepare:
	@mkdir -p $(O)/include/generated
%.o: FORCE
	$(if $(findstring -ffunction-sections,$(KCFLAGS)),,$(error KCFLAGS missing))
	@mkdir -p $(dir $(O)/$@)
	$(CC) -c -O2 -pg -mfentry $(KCFLAGS) -I$(CURDIR)/include -o $(O)/$@ $(CURDIR)/$*.c
MK
printf 'int helper(int a);\n' >"$src/include/lib.h"
cat >"$src/drv/x.c" <<'C'
#include "lib.h"

int counter = 1;

int compute(int a)
{
	return a * 3 + counter;
}

int other(int a)
{
	return a + 7;
}
C
state() { find "$src" -type f -exec stat -c '%n %s %Y' {} + | sort; find "$src" -type f -exec cat {} + | sha256sum; }
before=$(state)

mkpatch() { # mkpatch NAME FILE SED-EXPR
	mkdir -p "$T/p/a/$(dirname "$2")" "$T/p/b/$(dirname "$2")"
	cp "$src/$2" "$T/p/a/$2"
	sed "$3" "$src/$2" >"$T/p/b/$2"
	(cd "$T/p" && diff -u "a/$2" "b/$2" >"$T/$1.patch")
	rm -rf "$T/p"
}
mkpatch body drv/x.c 's/a \* 3/a * 4/'
mkpatch data drv/x.c 's/counter = 1/counter = 2/'
mkpatch header include/lib.h 's/int a/long a/'
printf -- '--- a/drv/x.c\n+++ b/drv/x.c\n@@ -1,2 +1,2 @@\n-nothing like this\n+at all\n context\n' >"$T/bad.patch"

run 0 tt kernel add fake --version 6.1.100 --config "$TEST_DATA_DIR/kernel/sample.config"
ok $? "kernel registered"
run 0 tt --json kernel prepare fake --source-dir "$src" && [ "$(jget "$T/out" 'd["cached"]')" = False ]
ok $? "kernel prepare builds the environment"
run 0 tt --json kernel prepare fake --source-dir "$src" && [ "$(jget "$T/out" 'd["cached"]')" = True ]
ok $? "a second prepare reuses it"

run 0 tt --json patch analyse --kernel fake --source-dir "$src" "$T/body.patch"
ok $? "a body change is livepatchable (exit 0)"
[ "$(jget "$T/out" '(d["files"][0]["functions"]["changed"], d["livepatchable"])')" = "(['compute'], True)" ]
ok $? "only compute() changed"
run 6 tt --json patch analyse --kernel fake --source-dir "$src" "$T/data.patch" &&
	jget "$T/out" 'd["files"][0]["refusals"]' | grep -q "existing data changed"
ok $? "a changed global is refused (exit 6) with the reason"
run 6 tt --json patch analyse --kernel fake --source-dir "$src" "$T/header.patch" &&
	jget "$T/out" 'd["files"][0]["refusals"]' | grep -qi "header"
ok $? "a header change is refused (exit 6)"
run 1 tt patch analyse --kernel fake --source-dir "$src" "$T/bad.patch" && grep -qi "fail\|apply" "$T/err"
ok $? "a patch that does not apply: error quoting patch (exit 1)"
run 1 tt patch analyse --kernel fake --source-dir "$src" "$T/missing.patch"; ok $? "a missing patch file"
run 5 tt patch analyse --kernel nosuch --source-dir "$src" "$T/body.patch"; ok $? "an unknown kernel (5)"
[ "$(state)" = "$before" ]; ok $? "the pristine source tree is untouched (names, sizes, mtimes, contents)"

done_testing
