# shellcheck shell=sh
# The cumulative livepatch (tt_cum_b: fixes 01 and 05) replaced tt_cum_a
# atomically: both changes are live and the replaced patch is gone from
# /sys/kernel/livepatch (it is freed asynchronously: wait a little).
grep -q 'tuxtape.livepatched=01' /proc/cmdline || exit 1
[ "$(tail -n 1 /proc/version)" = "tuxtape-05: new function, release $(uname -r)" ] || exit 1
[ "$(cat /sys/kernel/livepatch/tt_cum_b/enabled)" = 1 ] || exit 1
i=0
while [ -e /sys/kernel/livepatch/tt_cum_a ]; do
	i=$((i + 1))
	[ $i -le 20 ] || exit 1
	sleep 1
done
