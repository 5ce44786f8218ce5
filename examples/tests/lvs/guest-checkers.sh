#!/bin/sh
# Runs inside the ipvs test VM (ipvs/vm/run-vm.sh): keepalived-lite on
# /etc/checkers.conf (SSL_GET, PING_CHECK, UDP_CHECK, DNS_CHECK,
# SMTP_CHECK) while their servers run, after they stop, and after they
# start again. Prints "LVS-VM: ok STEP" per passed step.
set -u
echo 'root:x:0:0:root:/:/bin/sh' > /etc/passwd
echo 'root:x:0:' > /etc/group

want() {
    step="$1"; shift
    : > /tmp/want
    for l in "$@"; do echo "$l" >> /tmp/want; done
    sort /tmp/want > /tmp/want.sorted
    i=0
    while [ $i -lt 120 ]; do
        ipvsadm -S -n | sort > /tmp/got
        if cmp -s /tmp/got /tmp/want.sorted; then
            echo "LVS-VM: ok $step"
            return 0
        fi
        sleep 0.25
        i=$((i + 1))
    done
    echo "LVS-VM: FAIL $step; ipvsadm -S -n shows:"
    cat /tmp/got
    echo "LVS-VM: expected:"
    cat /tmp/want.sorted
    echo "LVS-VM: keepalived-lite log:"
    cat /tmp/kl.log
    exit 1
}

printf '#!/bin/sh\nprintf "220 vm ESMTP\\r\\n"\nread l\nprintf "250 vm\\r\\n"\nread l\nprintf "221 bye\\r\\n"\n' > /tmp/smtp.sh
chmod +x /tmp/smtp.sh
printf '#!/bin/sh\necho "$1" >> /tmp/notes\n' > /tmp/note.sh
chmod +x /tmp/note.sh
: > /tmp/notes

servers() {
    openssl s_server -quiet -www -accept 8443 -cert /etc/cert.pem -key /etc/key.pem > /tmp/ssl.log 2>&1 &
    ssl=$!
    dnsmasq -k --user=root --group=root --port=5353 --listen-address=127.0.0.1 --bind-interfaces \
        --no-resolv --no-hosts --address=/example.com/10.5.5.5 --pid-file=/tmp/dnsmasq.pid > /tmp/dns.log 2>&1 &
    dns=$!
    nc -ll -p 2525 -e /tmp/smtp.sh &
    smtp=$!
}

E='-A -t 10.0.0.5:443 -s wlc'
E1='-a -t 10.0.0.5:443 -r 10.1.0.1:443 -m -w 1'
P='-A -t 10.0.0.6:80 -s wlc'
P1='-a -t 10.0.0.6:80 -r 10.1.0.2:80 -m -w 1'
P2='-a -t 10.0.0.6:80 -r 10.1.0.3:80 -m -w 0'
U='-A -u 10.0.0.7:53 -s wlc'
U1='-a -u 10.0.0.7:53 -r 10.1.0.4:53 -m -w 1'
D='-A -u 10.0.0.8:53 -s wlc'
D1='-a -u 10.0.0.8:53 -r 10.1.0.6:53 -m -w 1'
S='-A -t 10.0.0.9:25 -s wlc'
S1='-a -t 10.0.0.9:25 -r 10.1.0.7:25 -m -w 1'
V='-A -t 10.0.0.10:80 -s wlc'
V1='-a -t 10.0.0.10:80 -r 10.1.0.8:80 -m -w 1'
VS='-a -t 10.0.0.10:80 -r 10.9.9.9:80 -m -w'

servers
keepalived-lite -C -n -l -f /etc/checkers.conf > /tmp/kl.log 2>&1 &
kl=$!
want all_up "$E" "$E1" "$P" "$P1" "$P2" "$U" "$U1" "$D" "$D1" "$S" "$S1" "$V" "$V1" "$VS 0"

kill $ssl $dns $smtp
want servers_down "$E" "$P" "$P1" "$P2" "$U" "$D" "$S" "$V" "$VS 1"

servers
want servers_back "$E" "$E1" "$P" "$P1" "$P2" "$U" "$U1" "$D" "$D1" "$S" "$S1" "$V" "$V1" "$VS 0"

kill -TERM $kl
wait $kl
status=$?
[ "$status" = 0 ] || { echo "LVS-VM: FAIL keepalived-lite exited $status"; cat /tmp/kl.log; exit 1; }
want stopped
kill $ssl $dns $smtp
# qup at start (as keepalived 2.2.7), down and up while running, then
# omega's down and qdown at shutdown.
notes=$(sort /tmp/notes | tr '\n' ' ')
[ "$notes" = "down down qdown qdown qup qup up " ] \
    || { echo "LVS-VM: FAIL scripts ran: $notes"; cat /tmp/kl.log; exit 1; }
echo "LVS-VM: ok scripts"
echo "LVS-VM: keepalived-lite log:"
cat /tmp/kl.log
echo "LVS-VM: done"
