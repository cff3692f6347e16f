# Smoke test: the patched veth module still creates a pair, raises it and
# carries an ARP request to the peer (the changed XDP queue set-up is not
# reached without an XDP program, which busybox cannot attach).
ip link add tve0 type veth || exit 1
# Without peer attributes the kernel names the peer vethN.
peer=
for d in /sys/class/net/veth*; do [ -e "$d" ] && peer=${d##*/}; done
[ -n "$peer" ] || { echo "no peer"; ip link del tve0; exit 1; }
ip link set tve0 up && ip link set "$peer" up || exit 1
rx=$(cat /sys/class/net/"$peer"/statistics/rx_packets)
ip addr add 10.6.0.1/24 dev tve0
busybox arping -c 1 -w 1 -I tve0 10.6.0.2 >/dev/null 2>&1
rx2=$(cat /sys/class/net/"$peer"/statistics/rx_packets)
ip link del tve0
[ "$rx2" -gt "$rx" ] || { echo "the peer received nothing"; exit 1; }
