#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Rebuilds the test modules against Debian 12's 6.1.0-54-amd64 headers and
# recaptures the real console logs of tests/data/klog/ with the VM harness
# (tuxtape patch verify).  The logs are kept as captured: never edit them.
#
#   TUXTAPE=/tmp/build-D/src/cli/tuxtape TUXTAPE_CORE_DATA_DIR=/tmp/bd \
#       sh tests/data/klog/modules/capture.sh [CASE...]
#
# TUXTAPE_CORE_DATA_DIR must hold a registered Debian kernel ($KERNEL,
# default debian-6.1.0-54: 'tuxtape kernel add debian-6.1.0-54 --debian
# 6.1.0-54-amd64').  HDR may name an unpacked linux-headers-6.1.0-54-amd64
# directory; otherwise the headers and linux-kbuild-6.1 are fetched with
# apt-get download into the work directory.  Cases: clean warn null stall
# vermagic symbol (default: all).  OUT names another directory for the logs.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-$(dirname "$here")}
: "${TUXTAPE:?set TUXTAPE to the tuxtape binary}"
: "${TUXTAPE_CORE_DATA_DIR:?set TUXTAPE_CORE_DATA_DIR to a data directory with the kernel}"
KERNEL=${KERNEL:-debian-6.1.0-54}
REL=6.1.0-54-amd64
CC=${CC:-gcc-12}
work=${WORK:-$(mktemp -d "${TMPDIR:-/tmp}/klog-capture.XXXXXX")}
mkdir -p "$work"

# Headers: Debian's amd64 Makefile includes /usr/src/linux-headers-*-common by
# absolute path, so an unpacked copy gets its include line pointed at itself.
if [ -z "${HDR:-}" ]; then
	mkdir -p "$work/debs" "$work/root"
	(cd "$work/debs" && apt-get download "linux-headers-$REL" \
		linux-headers-6.1.0-54-common linux-kbuild-6.1 >/dev/null)
	for d in "$work"/debs/*.deb; do dpkg-deb -x "$d" "$work/root"; done
	HDR=$work/root/usr/src/linux-headers-$REL
fi
common=$(sed -n 's|^include \(.*\)/linux-headers-6.1.0-54-common/Makefile$|\1|p' "$HDR/Makefile")
if [ -n "$common" ] && [ ! -f "$common/linux-headers-6.1.0-54-common/Makefile" ]; then
	sed -i "s|^include .*/linux-headers-6.1.0-54-common/Makefile$|include $(dirname "$HDR")/linux-headers-6.1.0-54-common/Makefile|" \
		"$HDR/Makefile"
fi

mkdir -p "$work/src"
cp "$here"/*.c "$here"/Kbuild "$work/src/"
# bad_symbol.ko has an undefined symbol on purpose: modpost only warns.
make -s -C "$HDR" M="$work/src" CC="$CC" KBUILD_MODPOST_WARN=1 -j2 modules 2>"$work/build.log" ||
	{ cat "$work/build.log" >&2; exit 1; }

printf '#!/bin/sh\ngrep -q tuxtape-klp-clean /proc/cmdline\n' >"$work/t-clean.sh"
printf '#!/bin/sh\ncat /proc/cmdline\n' >"$work/t-read.sh"

# capture CASE ARGS...: one verify run; its whole console becomes CASE.console.
capture() {
	name=$1
	shift
	rc=0
	"$TUXTAPE" --json patch verify --kernel "$KERNEL" --offline --log "$@" \
		>"$work/$name.json" || rc=$?
	python3 - "$work/$name.json" "$out/$name.console" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
open(sys.argv[2], "w", encoding="utf-8", errors="surrogateescape").write(d["log"])
print("%s: verdict %s (%s), %s, %.1f s" % (sys.argv[2].rsplit("/", 1)[-1], d["verdict"],
      d["reason"] or "-", d["accel"], d["total_ms"] / 1000))
PY
	echo "  tuxtape exit $rc"
}

cases=${*:-clean warn null stall vermagic symbol}
m=$work/src
for c in $cases; do
	case $c in
	clean) capture clean --test-after "$work/t-clean.sh" "$m/klp_clean.ko" ;;
	warn) capture warn --test-after "$work/t-read.sh" "$m/klp_warn.ko" ;;
	null) capture null --test-after "$work/t-read.sh" "$m/klp_null.ko" ;;
	stall) capture stall --dep "$m/klp_stall_target.ko" --transition-timeout 20 \
		"$m/klp_stall.ko" ;;
	vermagic) capture vermagic --load-only "$m/bad_vermagic.ko" ;;
	symbol) capture symbol "$m/bad_symbol.ko" ;;
	*) echo "unknown case '$c'" >&2; exit 2 ;;
	esac
done
[ -n "${WORK:-}" ] || rm -rf "$work"
