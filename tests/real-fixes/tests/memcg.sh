# Smoke test of the patched memory.high/memory.max writers and of reclaim
# (shrink_lruvec): a cgroup holding 4 MiB gets memory.high below its usage
# (reclaim runs, then the write returns), then limits are read back.
cg=/sys/fs/cgroup
mount -t cgroup2 none $cg 2>/dev/null
[ -f $cg/cgroup.controllers ] || { echo "no cgroup2"; exit 1; }
echo +memory > $cg/cgroup.subtree_control || exit 1
mkdir -p $cg/tt || exit 1
sh -c "echo \$\$ > $cg/tt/cgroup.procs && busybox dd if=/dev/zero of=/tmp/memcg.f bs=1M count=4 2>/dev/null" || exit 1
use=$(cat $cg/tt/memory.current)
[ "$use" -ge 4000000 ] || { echo "charge missing: $use"; exit 1; }
echo 1M > $cg/tt/memory.high || exit 1
[ "$(cat $cg/tt/memory.high)" = 1048576 ] || exit 1
echo max > $cg/tt/memory.high || exit 1
echo 64M > $cg/tt/memory.max || exit 1
[ "$(cat $cg/tt/memory.max)" = 67108864 ] || exit 1
rm -f /tmp/memcg.f
rmdir $cg/tt || exit 1
