#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# tuxtape kernel prepare reads the symbol table of a kernel that ships none
# (Debian's System.map is a placeholder) by booting its image under qemu:
# register Debian 12's real 6.1.0-54-amd64, prepare it on a fake kbuild tree
# (the real one takes minutes and is not what this tests) and check the
# captured /proc/kallsyms.  Skips when qemu, busybox-static or the Debian
# archive are unavailable.  Nothing is loaded on this machine.
. "$SOURCE_ROOT/tests/integration/lib.sh"

REL=6.1.0-54-amd64
command -v qemu-system-x86_64 >/dev/null 2>&1 || { echo "1..0 # SKIP no qemu-system-x86_64"; exit 0; }
ldd /bin/busybox 2>&1 | grep -q 'not a dynamic executable' || { echo "1..0 # SKIP no static busybox"; exit 0; }

# Reuse a cached image package when this machine has one (saves the download).
for d in /var/cache/apt/archives /tmp/debreal/cache ${TUXTAPE_VM_CACHE:+"$TUXTAPE_VM_CACHE/data/cache/debian"}; do
	for f in "$d"/linux-image-${REL}_*.deb "$d"/linux-headers-${REL}_*.deb "$d"/linux-headers-6.1.0-54-common_*.deb; do
		[ -f "$f" ] && mkdir -p "$T/data/cache/debian" && cp "$f" "$T/data/cache/debian/"
	done
done
if ! tt kernel add deb --debian "$REL" --no-source >"$T/out" 2>"$T/err"; then
	echo "1..0 # SKIP cannot fetch $REL: $(tail -1 "$T/err")"
	exit 0
fi
ok 0 "kernel add --debian $REL"

# A stand-in for kbuild: the symbol table is what is under test.
src="$T/linux"
mkdir -p "$src"
printf 'O ?= .\n.PHONY: olddefconfig modules_prepare\nolddefconfig:\n\t@true\nmodules_prepare:\n\t@mkdir -p $(O)/include/generated\n' >"$src/Makefile"
state="$T/data/build/deb/prepare.json"
ks="$T/data/build/deb/target/kallsyms"

start=$(date +%s)
run 0 tt --json kernel prepare deb --source-dir "$src" --force
ok $? "kernel prepare boots the kernel for its symbol table (exit 0)"
end=$(date +%s)
echo "# first prepare with the VM capture: $((end - start)) s wall, qemu $(jget "$T/out" 'd["symbol_table_capture_ms"]') ms, load $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$(jget "$T/out" '(d["symbol_table_kind"], d["symbol_table_source"], d["symbol_table_captured"])')" = "('kallsyms', 'vm', True)" ]
ok $? "the result says kallsyms, captured in a VM"
[ "$(jget "$state" '(d["symbol_table"]["kind"], d["symbol_table"]["source"])')" = "('kallsyms', 'vm')" ]
ok $? "prepare.json records kind kallsyms, source vm"
[ -s "$ks" ]; ok $? "target/kallsyms written"

n=$(wc -l <"$ks")
echo "# captured table: $n symbols"
[ "$n" -gt 90000 ]; ok $? "a sane count: $n symbols (6.1.0-54: 94201)"
grep -q '^ffffffff[0-9a-f]\{8\} T klp_enable_patch$' "$ks"; ok $? "klp_enable_patch is there, global text, with its address"
grep -q '^ffffffff[0-9a-f]\{8\} t update_curr$' "$ks"; ok $? "a static function (update_curr, 't') is there"
grep -q '^ffffffff[0-9a-f]\{8\} t klp_find_object_symbol$' "$ks"; ok $? "klp_find_object_symbol too"
! grep -q ' dummy_setup' "$ks"; ok $? "dummy_setup is not: dummy.ko was never loaded"
! grep -q '^0\{16\} [tT] ' "$ks"; ok $? "no text symbol at address 0"
# nokaslr: link-time addresses, so a second boot gives the same bytes.
grep -q '^ffffffff81000000 T _stext$' "$ks" || grep -q '^ffffffff81000000 T startup_64$' "$ks"
ok $? "link-time addresses (nokaslr): the text starts at ffffffff81000000"

start=$(date +%s)
run 0 tt --json kernel prepare deb --source-dir "$src" --force &&
	[ "$(jget "$T/out" '(d["cached"], d["symbol_table_captured"], d["symbol_table_source"])')" = "(True, False, 'vm')" ]
ok $? "a second prepare reuses the tree and the captured table"
end=$(date +%s)
[ $((end - start)) -lt 20 ]; ok $? "without booting again ($((end - start)) s)"

run 0 tt --json kernel prepare deb --source-dir "$src" --force --no-vm &&
	[ "$(jget "$T/out" 'd["symbol_table"]')" = None ] &&
	jget "$T/out" 'd["symbol_table_note"]' | grep -q "no symbol table"
ok $? "--no-vm: no table, a note"
[ ! -e "$ks" ]; ok $? "--no-vm: target/kallsyms removed"

cp "$T/data/cache/kallsyms/"*.kallsyms "$T/saved.kallsyms"
run 0 tt --json kernel prepare deb --source-dir "$src" --force --kallsyms "$T/saved.kallsyms" &&
	[ "$(jget "$T/out" '(d["symbol_table_source"], d["symbol_table_captured"])')" = "('$T/saved.kallsyms', False)" ]
ok $? "--kallsyms FILE wins over the VM"

run 0 tt --json kernel prepare deb --source-dir "$src" --force &&
	[ "$(jget "$T/out" '(d["symbol_table_source"], d["symbol_table_captured"])')" = "('vm', False)" ]
ok $? "back to the cached capture"

# Bad inputs.
run 2 tt kernel prepare deb --source-dir "$src" --no-vm --vmlinuz /bin/true; ok $? "--no-vm with --vmlinuz is a usage error (2)"
run 1 tt kernel prepare deb --source-dir "$src" --vmlinuz "$T/missing" && grep -q "cannot read the kernel image" "$T/err"
ok $? "a missing --vmlinuz (1)"
tt kernel add other --version 6.1.190 --release 6.1.0-99-amd64 --config "$T/data/cache/debian/extract/linux-image-${REL}_"*/boot/config-$REL >/dev/null 2>&1
image=$(ls "$T/data/cache/debian/boot/$REL/boot/vmlinuz-$REL")
run 1 tt kernel prepare other --source-dir "$src" --force --vmlinuz "$image" && grep -q "boots as '$REL', kernel 'other' is '6.1.0-99-amd64'" "$T/err"
ok $? "an image of another release is refused (1)"
printf 'not a kernel\n' >"$T/junk"
run 1 tt kernel prepare other --source-dir "$src" --force --vmlinuz "$T/junk" && grep -q "cannot read the kallsyms of" "$T/err"
ok $? "an image that does not boot: error naming it (1)"
sed 's/^/# /' "$T/err" | head -3
# Without qemu the tree is still prepared, without a table, and says why.
mkdir -p "$T/bin"
for p in make sh mkdir true gcc-12 gcc; do
	for d in /usr/bin /bin; do
		[ -x "$d/$p" ] && ln -s "$d/$p" "$T/bin/$p" && break
	done
done
printf 'another image\n' >"$T/junk2"
(PATH="$T/bin" run 0 tt --json kernel prepare other --source-dir "$src" --force --vmlinuz "$T/junk2") &&
	[ "$(jget "$T/out" 'd["symbol_table"]')" = None ] && grep -q "continuing without a symbol table" "$T/err"
ok $? "no qemu: prepared without a table, with a warning"
run 5 tt kernel prepare nosuch --source-dir "$src"; ok $? "an unknown kernel (5)"

done_testing
