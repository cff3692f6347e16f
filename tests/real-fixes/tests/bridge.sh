# Smoke test: the patched bridge module still creates a bridge, enslaves a
# port, raises and deletes it (the changed VLAN tunnel range parser is not
# reached: it needs netlink VLAN tunnel attributes busybox cannot send).
busybox brctl addbr tbr0 || exit 1
ip link add tbd0 type dummy || exit 1
busybox brctl addif tbr0 tbd0 || exit 1
ip link set tbr0 up || exit 1
ip link set tbr0 down
busybox brctl delif tbr0 tbd0 || exit 1
ip link del tbd0
busybox brctl delbr tbr0 || exit 1
