# SPDX-License-Identifier: GPL-2.0-or-later
# Helpers of bench/cve-sync.sh; expects $w, $tuxtape, $runs and $floor.

median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.3f", m}'; }

# timed OUTFILE CMD...: appends "seconds maxrss_kb" to OUTFILE
timed() {
	out=$1
	shift
	/usr/bin/time -f "%e %M" -o "$w/t" "$@" >/dev/null 2>"$w/err" || { cat "$w/err" >&2; exit 1; }
	cat "$w/t" >>"$out"
}

pg_reset() { dropdb --if-exists bench && createdb bench; }
pg_save() { pg_dump -Fc -f "$w/pg.dump" bench; }
pg_restore() { pg_reset && command pg_restore -d bench "$w/pg.dump"; }

bench_backend() {
	label=$1
	: >"$w/full"; : >"$w/noop"; : >"$w/inc"
	for i in $(seq "$runs"); do
		rm -rf "$w/data"
		$RESET_DB
		timed "$w/full" env TUXTAPE_CORE_DATA_DIR="$w/data" "$tuxtape" -q cve sync --source "$w/vulns"
	done
	for i in $(seq "$runs"); do
		timed "$w/noop" env TUXTAPE_CORE_DATA_DIR="$w/data" "$tuxtape" -q cve sync --source "$w/vulns"
	done
	# Last commit new: sync HEAD~1 once, then time HEAD from a copy of that state.
	git -C "$w/vulns" reset -q --hard bench-prev
	rm -rf "$w/data"
	$RESET_DB
	env TUXTAPE_CORE_DATA_DIR="$w/data" "$tuxtape" -q cve sync --source "$w/vulns" >/dev/null
	git -C "$w/vulns" reset -q --hard bench-head
	$SAVE_DB
	rm -rf "$w/data-prev"
	cp -a "$w/data" "$w/data-prev"
	for i in $(seq "$runs"); do
		rm -rf "$w/data"
		cp -a "$w/data-prev" "$w/data"
		$RESTORE_DB
		timed "$w/inc" env TUXTAPE_CORE_DATA_DIR="$w/data" "$tuxtape" -q cve sync --source "$w/vulns"
	done
	full=$(cut -d' ' -f1 "$w/full" | median)
	rss=$(cut -d' ' -f2 "$w/full" | median)
	printf '%-10s full sync        %7.3f s  (peak RSS %d MB, %.2fx the parse floor)\n' \
		"$label" "$full" "$(echo "$rss" | awk '{printf "%d", $1/1024}')" \
		"$(echo "$full $floor" | awk '{printf "%.2f", $1/$2}')"
	printf '%-10s nothing new      %7.3f s\n' "$label" "$(cut -d' ' -f1 "$w/noop" | median)"
	printf '%-10s last commit new  %7.3f s\n' "$label" "$(cut -d' ' -f1 "$w/inc" | median)"
}

