#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# tuxtape kernel prepare + patch analyse through the CLI, on a small fake
# kernel tree whose Makefile stands in for kbuild (olddefconfig,
# modules_prepare and single-object builds with O= and KCFLAGS, writing a
# .NAME.o.cmd with -DKBUILD_MODNAME like kbuild, -DMODULE under mod/).  The
# real Debian tree takes minutes and is exercised by hand (see the issue
# notes).
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
MODNAME = $(if $(filter mod/%,$@),mymod,$(notdir $*))
MODULE = $(if $(filter mod/%,$@),-DMODULE)
%.o: FORCE
	$(if $(findstring -ffunction-sections,$(KCFLAGS)),,$(error KCFLAGS missing))
	@mkdir -p $(dir $(O)/$@)
	$(CC) -c -O2 -g -pg -mfentry $(KCFLAGS) -I$(CURDIR)/include $(MODULE) -o $(O)/$@ $(CURDIR)/$*.c
	@printf '%s\n\n' "cmd_$@ := $(CC) -c $(MODULE) -DKBUILD_MODNAME='\"$(MODNAME)\"' -o $@ $*.c" >$(O)/$(dir $@).$(notdir $@).cmd
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

int report_line(int line);

int where(void)
{
	return report_line(__LINE__);
}

struct st {
	int a;
	int b;
};

int sum(struct st *s)
{
	return s->a + s->b;
}
C
mkdir -p "$src/mod"
printf 'int mfunc(int a)\n{\n\treturn a + 1;\n}\n' >"$src/mod/m.c"
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
mkpatch lines drv/x.c '1a\
/* two lines\
 * of comment */'
mkpatch struct drv/x.c 's/^\tint a;/\tlong a;/'
mkpatch module mod/m.c 's/a + 1/a + 2/'
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
[ "$(jget "$T/out" 'd["files"][0]["objname"]')" = vmlinux ] &&
	[ "$(jget "$T/out" 'd["files"][0]["orig_object"].endswith("/orig/drv/x.o")')" = True ] &&
	[ "$(jget "$T/out" 'd["files"][0]["patched_object"].startswith("/")')" = True ]
ok $? "the report names vmlinux and the saved objects by absolute path"
run 0 tt --json patch analyse --kernel fake --source-dir "$src" "$T/module.patch" &&
	[ "$(jget "$T/out" 'd["files"][0]["objname"]')" = mymod ]
ok $? "an object compiled with -DMODULE belongs to its KBUILD_MODNAME"
run 6 tt --json patch analyse --kernel fake --source-dir "$src" "$T/lines.patch" &&
	[ "$(jget "$T/out" 'd["files"][0]["line_only"]')" = "['where']" ] &&
	jget "$T/out" 'd["files"][0]["refusals"]' | grep -q "only __LINE__ values moved"
ok $? "lines added above a __LINE__ user: no change (exit 6), where() listed as line_only"
run 6 tt --json patch analyse --kernel fake --source-dir "$src" "$T/struct.patch" &&
	jget "$T/out" 'd["files"][0]["refusals"]' | grep -q "struct st layout changed (size 8 -> 16"
ok $? "a changed struct layout is refused with the sizes"
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
