#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# TUF interoperability with an implementation that is not ours: tuf-js 5.0.1
# and @tufjs/models 4.1.1 from npm (tests/interop/).
#  (a) a repository written by @tufjs/models (make-repo.mjs), served over
#      loopback HTTP: both clients, tuf-js and tuxtape-tuf-client, init,
#      refresh and download a module and keep the exact served bytes;
#  (b) every attack variant of make-repo.mjs (tampered, expired, rolled back,
#      wrong keys, threshold not met) is rejected by both clients after they
#      trusted a good state, with the exit code the case names, the trusted
#      files the case names unchanged and nothing stored in the target
#      directory;
#  (c) tuf-js refreshes from an archive made by `tuxtape archive
#      init/add/publish`, served by `tuxtape archive serve`, and downloads a
#      module.
# Skipped when node is missing or older than 20.17 (tuf-js 5.0.1's engines).
# node_modules comes from `npm ci` into the build tree (INTEROP_CACHE, else
# BUILD_ROOT/tests/interop), never into the source tree.
. "$(dirname "$0")/lib.sh"

src="$SOURCE_ROOT/tests/interop"

# --- node and the pinned npm packages ---------------------------------------
if ! command -v node >/dev/null 2>&1; then
	echo "1..0 # SKIP no node command (tuf-js 5.0.1 needs Node >= 20.17)"
	exit 0
fi
nodever=$(node -p 'process.versions.node' 2>/dev/null)
if ! node -e '
	const [a, b] = process.versions.node.split(".").map(Number);
	process.exit(a > 20 || (a === 20 && b >= 17) ? 0 : 1);' 2>/dev/null; then
	echo "1..0 # SKIP node $nodever is older than 20.17 (tuf-js 5.0.1's engines)"
	exit 0
fi
if [ -n "${INTEROP_CACHE:-}" ]; then
	cache=$INTEROP_CACHE
elif [ -n "${BUILD_ROOT:-}" ]; then
	cache="$BUILD_ROOT/tests/interop"
else
	echo "Bail out! neither INTEROP_CACHE nor BUILD_ROOT is set"
	exit 1
fi
mkdir -p "$cache"
if [ ! -d "$cache/node_modules" ] || ! cmp -s "$src/package-lock.json" "$cache/package-lock.json"; then
	if ! command -v npm >/dev/null 2>&1; then
		echo "Bail out! node_modules missing in '$cache' and no npm command"
		exit 1
	fi
	cp "$src/package.json" "$src/package-lock.json" "$cache/"
	# lib.sh points HOME at a scratch directory: keep npm's cache in the
	# build tree so a re-run does not download again.
	if ! (cd "$cache" && npm_config_cache="$cache/.npm-cache" \
		npm ci --no-audit --no-fund --loglevel=error) >"$T/npm.log" 2>&1; then
		sed 's/^/# npm: /' "$T/npm.log" | tail -20
		rm -rf "$cache/node_modules"
		echo "Bail out! npm ci failed in '$cache'"
		exit 1
	fi
fi
# The scripts run next to their node_modules (ES modules ignore NODE_PATH).
cp "$src/make-repo.mjs" "$src/tufjs-client.mjs" "$cache/"
tufjs_version=$(node -p 'require(process.argv[1] + "/node_modules/tuf-js/package.json").version' "$cache")
ok "$([ "$tufjs_version" = 5.0.1 ]; echo $?)" "tuf-js $tufjs_version from npm on node $nodever"

# --- the clients -------------------------------------------------------------
tuf_client=${TUF_CLIENT:-${BUILD_ROOT:+$BUILD_ROOT/src/tuf/tuxtape-tuf-client}}
clients="tufjs"
ours_missing=
if [ -n "$tuf_client" ] && [ -x "$tuf_client" ]; then
	clients="tufjs ours"
else
	ours_missing="tuxtape-tuf-client not built (${tuf_client:-no BUILD_ROOT})"
fi

# client NAME ARGS...: the conformance-suite command line of either client.
client() {
	_c=$1
	shift
	case $_c in
	tufjs) node "$cache/tufjs-client.mjs" "$@" ;;
	ours) "$tuf_client" "$@" ;;
	esac
}

# skip DESCRIPTION REASON: a TAP test point that did not run.
skip() {
	_n=$((_n + 1))
	echo "ok $_n - $1 # SKIP $2"
}

# A loopback HTTP server for a directory; writes its port into a file.
cat >"$T/serve.py" <<'EOF'
import functools, http.server, os, sys
portfile, root = sys.argv[1:3]
class Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass
h = functools.partial(Handler, directory=root)
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), h)
with open(portfile + ".tmp", "w") as f:
    f.write(str(s.server_port))
os.rename(portfile + ".tmp", portfile)
s.serve_forever()
EOF
servers=
trap 'for p in $servers; do kill $p 2>/dev/null; done; cleanup' EXIT

# --- make-repo.mjs: the repositories -----------------------------------------
repos="$T/repos"
run 0 node "$cache/make-repo.mjs" "$repos"
ok $? "make-repo.mjs writes a good repository and the attack variants"
run 2 node "$cache/make-repo.mjs" "$T/unused" --case no-such-case
ok $? "make-repo.mjs refuses an unknown case"
grep -q "unknown case 'no-such-case'" "$T/err"
ok $? "make-repo.mjs names the unknown case"

python3 "$T/serve.py" "$T/port" "$repos" &
servers="$servers $!"
for i in $(seq 100); do [ -f "$T/port" ] && break; sleep 0.1; done
[ -f "$T/port" ] || { echo "Bail out! the loopback HTTP server did not start"; exit 1; }
url="http://127.0.0.1:$(cat "$T/port")"

sha() { sha256sum "$1" | cut -d' ' -f1; }

# has_target DIR SHA256: some file under DIR has these bytes.
has_target() {
	find "$1" -type f -exec sha256sum {} + 2>/dev/null | grep -q "^$2 "
}

# --- (a) both clients read the good repository from scratch ------------------
target=$(jget "$repos/good/case.json" 'd["target"]')
target_sha=$(jget "$repos/good/case.json" 'd["target_sha256"]')
served="$repos/good/repository/metadata"
for c in tufjs ours; do
	if [ "$c" = ours ] && [ -n "$ours_missing" ]; then
		skip "ours: init, refresh and download from the @tufjs/models repository" "$ours_missing"
		continue
	fi
	d="$T/fresh-$c"
	run 0 client $c --metadata-dir "$d/md" init "$repos/good/root.json"
	ok $? "$c: init with the @tufjs/models root"
	run 0 client $c --metadata-url "$url/good/repository/metadata/" --metadata-dir "$d/md" refresh
	ok $? "$c: refresh from the @tufjs/models repository"
	rc=0
	for pair in timestamp.json:timestamp.json snapshot.json:2.snapshot.json \
		targets.json:2.targets.json root.json:1.root.json; do
		cmp -s "$d/md/${pair%%:*}" "$served/${pair#*:}" || {
			echo "# $c: trusted ${pair%%:*} differs from served ${pair#*:}" >&2
			rc=1
		}
	done
	ok $rc "$c: trusted metadata keeps the exact served bytes"
	run 0 client $c --metadata-url "$url/good/repository/metadata/" --metadata-dir "$d/md" \
		--target-name "$target" --target-dir "$d/targets" \
		--target-base-url "$url/good/repository/targets/" download
	ok $? "$c: download '$target' (delegated role, consistent snapshot)"
	has_target "$d/targets" "$target_sha"
	ok $? "$c: the downloaded module has the listed sha256"
	cmp -s "$d/md/6.1.0-54-amd64.json" "$served/2.6.1.0-54-amd64.json"
	ok $? "$c: the delegated role is trusted under its unversioned name"
	run 1 client $c --metadata-url "$url/good/repository/metadata/" --metadata-dir "$d/md" \
		--target-name "6.1.0-54-amd64/livepatch_none-9.ko" --target-dir "$d/none" \
		--target-base-url "$url/good/repository/targets/" download
	ok $? "$c: a target no role lists is an error"
done

# guard_ok: the trusted files the case guards are as they were before.
guard_ok() {
	[ "$guard" = - ] && return 0
	_rc=0
	for f in $(echo "$guard" | tr ',' ' '); do
		cmp -s "$d/md-before/$f" "$d/md/$f" || {
			echo "# $c: $name: trusted $f changed" >&2
			_rc=1
		}
	done
	return $_rc
}

# refusal_checks: after a rejection, the trusted files the case guards are
# unchanged and our client's message names the refused file (tuf-js's
# messages do not always name one, so only ours is held to it).
refusal_checks() {
	if [ "$c" = ours ]; then
		grep -qF "$where" "$T/err"
		_rc=$?
		[ $_rc -eq 0 ] || echo "# $c: $name: stderr: $(head -c 300 "$T/err")" >&2
		ok $_rc "$c: $name: the refusal names '$where'"
	fi
	guard_ok
	ok $? "$c: $name: a failed $1 leaves the trusted files alone"
}

# --- (b) each case: trust the state before, then face the state under test ---
# cases.tsv: name, refresh exit, download exit, target before, target and
# its sha256, guarded files, the file a rejection names, text
tab=$(printf '\t')
while IFS="$tab" read -r name want_refresh want_download before_target target target_sha \
	guard where text; do
	base="$url/$name"
	for c in tufjs ours; do
		if [ "$c" = ours ] && [ -n "$ours_missing" ]; then
			skip "ours: $name ($text)" "$ours_missing"
			continue
		fi
		d="$T/case-$c-$name"
		run 0 client $c --metadata-dir "$d/md" init "$repos/$name/root.json" &&
		run 0 client $c --metadata-url "$base/before/metadata/" --metadata-dir "$d/md" \
			--target-name "$before_target" --target-dir "$d/t0" \
			--target-base-url "$base/before/targets/" download
		ok $? "$c: $name: trusts the state before"
		cp -a "$d/md" "$d/md-before"
		run "$want_refresh" client $c --metadata-url "$base/repository/metadata/" \
			--metadata-dir "$d/md" refresh
		ok $? "$c: $name: refresh exits $want_refresh ($text)"
		[ "$want_refresh" -eq 0 ] || refusal_checks refresh
		run "$want_download" client $c --metadata-url "$base/repository/metadata/" \
			--metadata-dir "$d/md" --target-name "$target" --target-dir "$d/t1" \
			--target-base-url "$base/repository/targets/" download
		ok $? "$c: $name: download exits $want_download"
		if [ "$want_download" -eq 0 ]; then
			has_target "$d/t1" "$target_sha"
			ok $? "$c: $name: the new module is there with the listed sha256"
		else
			refusal_checks download
			[ -z "$(find "$d/t1" -type f 2>/dev/null)" ]
			ok $? "$c: $name: nothing is stored in the target directory"
		fi
	done
done <"$repos/cases.tsv"

# --- (c) tuf-js against our own archive --------------------------------------
# For each signature scheme: init, add, publish, serve; tuf-js trusts root v1
# and downloads the module; a second publish adds the next module and tuf-js
# follows; then files of the served tree are tampered with on disk and both
# clients, starting fresh, refuse them.
schemes="ed25519 ecdsa-sha2-nistp256"
if ! tt archive --help >/dev/null 2>&1; then
	why="'tuxtape archive' is not implemented yet"
	for s in $schemes; do
		skip "tuf-js: refresh and download from a $s archive of tuxtape archive serve" "$why"
	done
	done_testing
	exit
fi

# modfile N: a livepatch-shaped module (an ELF relocatable with a .modinfo).
modfile() {
	mkdir -p "$T/mod"
	printf 'int livepatch_uvc_marker = %d;\n' "$1" >"$T/mod/m$1.c"
	printf 'name=livepatch_uvc\0vermagic=6.1.0-54-amd64 SMP preempt mod_unload modversions \0livepatch=Y\0license=GPL\0' \
		>"$T/mod/modinfo"
	cc -c -o "$T/mod/m$1.o" "$T/mod/m$1.c" &&
		objcopy --add-section .modinfo="$T/mod/modinfo" "$T/mod/m$1.o" "$T/mod/livepatch_uvc-$1.ko"
}
modfile 1 && modfile 2
ok $? "two livepatch-shaped modules for the archive"

export TUXTAPE_ARCHIVE_PASSPHRASE="interop passphrase"
rel=6.1.0-54-amd64
arch() { tt archive "$@" --archive "$A"; }
for s in $schemes; do
	A="$T/archive-$s"
	run 0 arch init "$A" --scheme "$s" &&
		run 0 arch add "$T/mod/livepatch_uvc-1.ko" --kernel-release "$rel" --cve CVE-2024-53104 &&
		run 0 arch publish
	ok $? "$s: tuxtape archive init, add and publish"
	# Not through a shell function: $! must be the server itself.
	"$TUXTAPE" archive serve --archive "$A" --listen 127.0.0.1:0 --json \
		>"$T/serve-$s.out" 2>"$T/serve-$s.err" &
	servers="$servers $!"
	for i in $(seq 100); do [ -s "$T/serve-$s.out" ] && break; sleep 0.1; done
	murl=$(jget "$T/serve-$s.out" 'd["metadata_url"]' 2>/dev/null)
	turl=$(jget "$T/serve-$s.out" 'd["targets_url"]' 2>/dev/null)
	[ -n "$murl" ] && [ -n "$turl" ]
	ok $? "$s: tuxtape archive serve --json prints its URLs"

	a="$T/archive-tufjs-$s"
	run 0 client tufjs --metadata-dir "$a/md" init "$A/repository/metadata/1.root.json" &&
		run 0 client tufjs --metadata-url "$murl" --metadata-dir "$a/md" refresh
	ok $? "$s: tuf-js refreshes from tuxtape archive serve"
	run 0 client tufjs --metadata-url "$murl" --metadata-dir "$a/md" --target-name "$rel/livepatch_uvc-1.ko" \
		--target-dir "$a/targets" --target-base-url "$turl" download &&
		has_target "$a/targets" "$(sha "$T/mod/livepatch_uvc-1.ko")"
	ok $? "$s: tuf-js downloads '$rel/livepatch_uvc-1.ko' with its sha256"

	run 0 arch add "$T/mod/livepatch_uvc-2.ko" --kernel-release "$rel" --cve CVE-2024-53105 &&
		run 0 arch publish &&
		run 0 client tufjs --metadata-url "$murl" --metadata-dir "$a/md" \
			--target-name "$rel/livepatch_uvc-2.ko" --target-dir "$a/targets" --target-base-url "$turl" download &&
		has_target "$a/targets" "$(sha "$T/mod/livepatch_uvc-2.ko")"
	ok $? "$s: after a second publish tuf-js follows and downloads '$rel/livepatch_uvc-2.ko'"
	jget "$a/md/$rel.json" '(lambda c: c["patch_version"] == 2 and c["cves"] == ["CVE-2024-53105"]
		and c["replaces"] == "'"$rel"'/livepatch_uvc-1.ko" and c["kernel_release"] == "'"$rel"'"
		and c["module_name"] == "livepatch_uvc" and c["revoked"] is False
		)(d["signed"]["targets"]["'"$rel"'/livepatch_uvc-2.ko"]["custom"]) or sys.exit(1)' >/dev/null
	ok $? "$s: tuf-js holds the contract's custom fields for the new module"

	# The served module bytes change (same length): both clients refuse it.
	for f in "$A/repository/targets/$rel/"*.livepatch_uvc-2.ko; do
		python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[64] ^= 1; open(sys.argv[1], "wb").write(b)' "$f"
	done
	for c in $clients; do
		d="$T/archive-$c-$s-tampered"
		run 0 client $c --metadata-dir "$d/md" init "$A/repository/metadata/1.root.json" &&
			run 1 client $c --metadata-url "$murl" --metadata-dir "$d/md" --target-name "$rel/livepatch_uvc-2.ko" \
				--target-dir "$d/targets" --target-base-url "$turl" download &&
			[ -z "$(find "$d/targets" -type f 2>/dev/null)" ]
		ok $? "$c: $s: a module tampered with on the server is refused and not stored"
	done
	if [ -n "$ours_missing" ]; then
		skip "ours: $s: a module tampered with on the server is refused" "$ours_missing"
	fi

	# timestamp.json edited after signing (expiry pushed out): both refuse.
	python3 -c '
import json, sys
p = sys.argv[1]
d = json.load(open(p))
d["signed"]["expires"] = "2099-01-01T00:00:00Z"
open(p, "w").write(json.dumps(d))' "$A/repository/metadata/timestamp.json"
	for c in $clients; do
		d="$T/archive-$c-$s-timestamp"
		run 0 client $c --metadata-dir "$d/md" init "$A/repository/metadata/1.root.json" &&
			run 1 client $c --metadata-url "$murl" --metadata-dir "$d/md" refresh &&
			[ ! -e "$d/md/timestamp.json" ]
		ok $? "$c: $s: a timestamp.json edited on the server is refused and not stored"
	done
	if [ -n "$ours_missing" ]; then
		skip "ours: $s: a timestamp.json edited on the server is refused" "$ours_missing"
	fi
done

done_testing
