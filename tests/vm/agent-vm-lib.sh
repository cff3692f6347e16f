# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh
# Helpers of t0710-agent-vm.sh: livepatch modules built once and cached, the
# Debian kernel and the modules of the 9p share taken from its image package,
# an initramfs written as a newc cpio (with /dev/console, no root needed) and
# qemu runs with virtio-9p shares.  Sourced after tests/integration/lib.sh
# ($T, tt, jget); needs $REL, $VMC (the VM cache) and $TUXTAPE_CORE_DATA_DIR.

# modinfo_field KO FIELD: the first FIELD=value of the module's .modinfo.
modinfo_field() {
	objcopy -O binary --only-section=.modinfo "$1" "$T/modinfo.bin" 2>/dev/null || return 1
	tr '\0' '\n' <"$T/modinfo.bin" | sed -n "s/^$2=//p" | head -n 1
}

# avm_module NAME PATCH...: prints the path of livepatch module NAME built
# from the patches for kernel 'deb', from $VMC/agent-modules when a build of
# the same patches by the same tuxtape version is there (a build takes a
# minute), else built now and kept there.  The build report is NAME.json
# beside it.
avm_module() {
	_name=$1
	shift
	_key=$({
		"$TUXTAPE" --version
		echo "$_name"
		for _p; do sha256sum <"$_p"; done
	} | sha256sum | cut -c1-16)
	_dir=$VMC/agent-modules
	_ko=$_dir/$_name-$_key.ko
	if [ ! -s "$_ko" ]; then
		mkdir -p "$_dir" || return 1
		tt --json patch build --kernel deb --name "$_name" -o "$T/$_name.ko" "$@" \
			>"$T/$_name.build.json" 2>"$T/$_name.build.err" || return 1
		cp "$T/$_name.build.json" "$_dir/$_name-$_key.json.tmp" &&
			mv "$_dir/$_name-$_key.json.tmp" "$_dir/$_name-$_key.json" &&
			cp "$T/$_name.ko" "$_ko.tmp" && mv "$_ko.tmp" "$_ko" || return 1
	fi
	echo "$_ko"
}

# avm_kernel DEB: extracts vmlinuz and the modules a virtio-9p share needs
# from the image package DEB into $VMC/agent-vm/$REL (once) and writes there
# mods.order: the .ko paths in dependency order (read from each module's
# .modinfo depends=, sorted with tsort).
AVM_KMODS='9p 9pnet_virtio virtio_pci'
avm_kernel() {
	_kd=$VMC/agent-vm/$REL
	if [ ! -f "$_kd/done" ]; then
		rm -rf "$_kd" && mkdir -p "$_kd/x" || return 1
		dpkg-deb --fsys-tarfile "$1" | tar -x -C "$_kd/x" --wildcards \
			"./boot/vmlinuz-$REL" \
			"./lib/modules/$REL/kernel/fs/9p/*" \
			"./lib/modules/$REL/kernel/net/9p/*" \
			"./lib/modules/$REL/kernel/fs/netfs/*" \
			"./lib/modules/$REL/kernel/fs/fscache/*" \
			"./lib/modules/$REL/kernel/drivers/virtio/*" || return 1
		mv "$_kd/x/boot/vmlinuz-$REL" "$_kd/vmlinuz" || return 1
		find "$_kd/x" -name '*.ko' >"$_kd/all" || return 1
		# "dep module" pairs (a module with no dependency pairs with itself)
		: >"$_kd/pairs"
		_todo=$AVM_KMODS
		_seen=' '
		while [ -n "$_todo" ]; do
			# shellcheck disable=SC2086 # a list of module names
			set -- $_todo
			_m=$1
			shift
			_todo=$*
			case $_seen in *" $_m "*) continue ;; esac
			_seen="$_seen$_m "
			_f=$(grep "/$_m\.ko\$" "$_kd/all" | head -n 1)
			[ -n "$_f" ] || { echo "avm_kernel: no $_m.ko in the image package" >&2; return 1; }
			echo "$_m $_m" >>"$_kd/pairs"
			for _d in $(modinfo_field "$_f" depends | tr ',' ' '); do
				echo "$_d $_m" >>"$_kd/pairs"
				_todo="$_todo $_d"
			done
		done
		tsort "$_kd/pairs" >"$_kd/names" || return 1
		while read -r _m; do
			grep "/$_m\.ko\$" "$_kd/all" | head -n 1
		done <"$_kd/names" >"$_kd/mods.order" || return 1
		touch "$_kd/done"
	fi
	if [ ! -s "$_kd/build-id" ]; then
		avm_vmlinux "$_kd/vmlinuz" "$_kd/vmlinux" &&
			readelf -n "$_kd/vmlinux" | sed -n 's/^ *Build ID: \([0-9a-f]*\)$/\1/p' | head -n 1 \
				>"$_kd/build-id.tmp" && [ -s "$_kd/build-id.tmp" ] &&
			mv "$_kd/build-id.tmp" "$_kd/build-id" || return 1
		rm -f "$_kd/vmlinux"
	fi
	echo "$_kd"
}

# avm_vmlinux BZIMAGE OUT: the ELF vmlinux inside a bzImage (xz, zstd or gzip
# payload), for its GNU build id (what /sys/kernel/notes shows at run time).
avm_vmlinux() {
	python3 - "$1" "$2" <<'PY'
import lzma, subprocess, sys, zlib

b = open(sys.argv[1], "rb").read()
for magic in (b"\xfd7zXZ\x00", b"\x28\xb5\x2f\xfd", b"\x1f\x8b\x08\x00"):
    i = b.find(magic)
    while i >= 0:
        try:
            if magic.startswith(b"\xfd7z"):
                v = lzma.LZMADecompressor().decompress(b[i:])
            elif magic.startswith(b"\x28"):
                v = subprocess.run(["zstd", "-dc"], input=b[i:], capture_output=True).stdout
            else:
                v = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(b[i:])
        except Exception:
            v = b""
        if v[:4] == b"\x7fELF":
            open(sys.argv[2], "wb").write(v)
            sys.exit(0)
        i = b.find(magic, i + 1)
sys.exit(1)
PY
}

# avm_initramfs DIR OUT: a newc cpio of the tree DIR plus /dev/console
# (character device 5:1, so /init has its console from the first line).
avm_initramfs() {
	python3 - "$1" "$2" <<'PY'
import os, stat, sys

root, out = sys.argv[1], sys.argv[2]
ino = [1000]

def entry(f, name, mode, data=b"", rdev=(0, 0)):
    ino[0] += 1
    name_b = name.encode() + b"\0"
    hdr = "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X" % (
        ino[0], mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(name_b), 0)
    f.write(hdr.encode() + name_b)
    f.write(b"\0" * ((4 - (110 + len(name_b)) % 4) % 4))
    f.write(data)
    f.write(b"\0" * ((4 - len(data) % 4) % 4))

with open(out, "wb") as f:
    entry(f, "dev", stat.S_IFDIR | 0o755)
    entry(f, "dev/console", stat.S_IFCHR | 0o600, rdev=(5, 1))
    for d, dirs, files in os.walk(root):
        dirs.sort()
        for n in sorted(dirs) + sorted(files):
            p = os.path.join(d, n)
            rel = os.path.relpath(p, root)
            if rel == "dev":
                continue
            st = os.lstat(p)
            if stat.S_ISLNK(st.st_mode):
                entry(f, rel, stat.S_IFLNK | 0o777, os.readlink(p).encode())
            elif stat.S_ISDIR(st.st_mode):
                entry(f, rel, stat.S_IFDIR | (st.st_mode & 0o7777))
            elif stat.S_ISREG(st.st_mode):
                with open(p, "rb") as g:
                    entry(f, rel, stat.S_IFREG | (st.st_mode & 0o7777), g.read())
    entry(f, "TRAILER!!!", 0)
PY
}

# avm_copy_elf DIR BINARY DEST: BINARY at DIR/DEST and every shared library
# ldd lists at its own path under DIR (the dynamic loader included).
avm_copy_elf() {
	mkdir -p "$1/${3%/*}" && cp "$2" "$1/$3" || return 1
	for _l in $(ldd "$2" | sed -n 's/.*=> \(\/[^ ]*\).*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p'); do
		[ -e "$1$_l" ] && continue
		mkdir -p "$1${_l%/*}" && cp -L "$_l" "$1$_l" || return 1
	done
}

# avm_accel: kvm when /dev/kvm is usable and a probe boot of INITRD (argument
# 3, with KERNEL argument 2, printing TT-PROBE-OK for ttstep=probe) finishes
# within 20 s; else tcg.
avm_accel() {
	if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
		timeout 20 qemu-system-x86_64 -accel kvm -cpu host -m 256 -smp 1 -nodefaults \
			-nographic -monitor none -serial stdio -no-reboot -kernel "$1" -initrd "$2" \
			-append "console=ttyS0 panic=-1 quiet ttstep=probe" </dev/null 2>/dev/null |
			grep -q TT-PROBE-OK && { echo kvm; return; }
	fi
	echo tcg
}

# avm_boot NAME STEP SHARE_ARGS...: boots the agent initramfs with
# ttstep=STEP and the given -virtfs options; the console goes to
# $T/NAME.console (and stays there), qemu's own errors to $T/NAME.qemu.
avm_boot() {
	_bn=$1
	_step=$2
	shift 2
	# shellcheck disable=SC2086 # $AVM_CPU is empty or "-cpu host"
	timeout "${AVM_BOOT_TIMEOUT:-300}" qemu-system-x86_64 -accel "$AVM_ACCEL" $AVM_CPU -m 768 \
		-smp 1 -nodefaults -nographic -monitor none -serial stdio -no-reboot \
		-kernel "$AVM_KERNEL" -initrd "$AVM_INITRD" \
		-append "console=ttyS0 panic=-1 quiet loglevel=4 ttstep=$_step" \
		"$@" </dev/null >"$T/$_bn.console" 2>"$T/$_bn.qemu"
}

# mark BOOT NAME: the rc /init printed for its check NAME ("TT-MARK NAME RC").
mark() {
	tr -d '\r' <"$T/$1.console" | sed -n "s/^TT-MARK $2 \\([0-9]*\\)\$/\\1/p" | tail -n 1
}

# marked BOOT NAME [RC]: check NAME of /init gave RC (default 0).
marked() {
	[ "$(mark "$1" "$2")" = "${3:-0}" ]
}
