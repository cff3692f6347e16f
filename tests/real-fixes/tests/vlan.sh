# Smoke test of the patched path: a VLAN device without REORDER_HDR builds
# its header in vlan_dev_hard_header(); an ARP request sent through it
# must leave as a packet.
ip link add tvd0 type dummy || exit 1
ip link set tvd0 up
ip link add link tvd0 name tvd0.5 type vlan id 5 || exit 1
busybox vconfig set_flag tvd0.5 1 0 || exit 1
ip addr add 10.5.0.1/24 dev tvd0.5 || exit 1
ip link set tvd0.5 up || exit 1
busybox arping -c 1 -w 1 -I tvd0.5 10.5.0.2 >/dev/null 2>&1
tx=$(cat /sys/class/net/tvd0.5/statistics/tx_packets)
ip link del tvd0.5
ip link del tvd0
[ "$tx" -ge 1 ] || { echo "nothing sent through the VLAN device"; exit 1; }
