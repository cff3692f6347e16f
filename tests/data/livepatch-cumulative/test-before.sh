# shellcheck shell=sh
# Run after the first livepatch (tt_cum_a, fix 01 alone) was loaded as a
# dependency: wait for its transition, then its change is live and fix 05's
# is not.
i=0
while [ "$(cat /sys/kernel/livepatch/tt_cum_a/transition 2>/dev/null)" != 0 ]; do
	i=$((i + 1))
	[ $i -le 60 ] || exit 1
	sleep 1
done
[ "$(cat /sys/kernel/livepatch/tt_cum_a/enabled)" = 1 ] || exit 1
grep -q 'tuxtape.livepatched=01' /proc/cmdline || exit 1
! grep -q tuxtape-05 /proc/version
