# Smoke test of the patched receive path (tcp_rcv_established): 200 KB
# served by busybox httpd over a loopback TCP connection arrive whole.
ip link set lo up || exit 1
rm -rf /tmp/www /tmp/tcp.out
mkdir -p /tmp/www
seq 1 30000 > /tmp/www/data
busybox httpd -f -p 127.0.0.1:8080 -h /tmp/www &
srv=$!
# The server may not listen yet under TCG: retry.
n=0
until busybox wget -q -O /tmp/tcp.out http://127.0.0.1:8080/data 2>/dev/null; do
	n=$((n + 1))
	[ $n -ge 30 ] && { echo "no answer from httpd"; kill $srv; exit 1; }
	usleep 200000
done
kill $srv
busybox cmp /tmp/www/data /tmp/tcp.out || { echo "data differ"; exit 1; }
