# Smoke test of the patched send_signal_locked(): signals still arrive
# (SIGTERM to a child, SIGKILL to another, and a signal to ourselves).
sleep 100 &
p=$!
kill -TERM $p || exit 1
wait $p; rc=$?
[ $rc = 143 ] || { echo "SIGTERM: rc $rc"; exit 1; }
sleep 100 &
p=$!
kill -KILL $p || exit 1
wait $p; rc=$?
[ $rc = 137 ] || { echo "SIGKILL: rc $rc"; exit 1; }
got=0
trap 'got=1' USR1
kill -USR1 $$
[ $got = 1 ] || { echo "SIGUSR1 to self lost"; exit 1; }
