#!/bin/sh
# A manual side-by-side run, not part of CI (BENCHMARKS.md, healthcheck):
# keepalived 2.2.7 -C, then keepalived-lite -C, on the same 3-url HTTP_GET
# (delay_loop 4, retry 1, delay_before_retry 2) against a busybox nc web
# server that notes each request's time (guest uptime) and path; /b
# answers 500 for 20 s. Run from the workspace root:
#   cargo build -p keepalived-lite --bin keepalived-lite
#   ipvs/vm/run-vm.sh --timeout 500 \
#     --file target/debug/keepalived-lite:/bin/keepalived-lite \
#     --file /usr/sbin/keepalived:/bin/keepalived \
#     examples/tests/lvs/guest-httpstep.sh
set -u
mkdir -p /run /etc/keepalived
echo 'root:x:0:0:root:/:/bin/sh' > /etc/passwd
echo 'root:x:0:' > /etc/group
cat > /tmp/h.sh <<'EOS'
#!/bin/sh
read req
while read l; do case "$l" in ""|"$(printf '\r')") break;; esac; done
p=$(echo "$req" | cut -d' ' -f2)
if [ "$p" = /b ] && [ -e /tmp/failb ]; then code="500 Bad"; else code="200 OK"; fi
echo "$(cut -d' ' -f1 /proc/uptime) $p ${code%% *}" >> /tmp/req.log
printf 'HTTP/1.0 %s\r\nContent-Length: 0\r\n\r\n' "$code"
EOS
chmod +x /tmp/h.sh
cat > /tmp/k.conf <<'EOC'
virtual_server 10.0.0.1 80 {
    delay_loop 4
    protocol TCP
    real_server 127.0.0.1 8080 {
        HTTP_GET {
            url {
                path /a
            }
            url {
                path /b
            }
            url {
                path /c
            }
            connect_timeout 3
            retry 1
            delay_before_retry 2
        }
    }
}
EOC
nc -ll -p 8080 -e /tmp/h.sh &
srv=$!
one() {
    rm -f /tmp/failb /tmp/req.log
    echo "=== $1 start $(cut -d' ' -f1 /proc/uptime)"
    if [ $1 = kd ]; then
        keepalived -C -n -l -D -f /tmp/k.conf -p /run/k.pid -c /run/kc.pid > /tmp/$1.log 2>&1 &
    else
        keepalived-lite -C -n -l -f /tmp/k.conf > /tmp/$1.log 2>&1 &
    fi
    pid=$!
    sleep 26; touch /tmp/failb; echo "fail /b at $(cut -d' ' -f1 /proc/uptime)"
    sleep 20; rm -f /tmp/failb; echo "recover /b at $(cut -d' ' -f1 /proc/uptime)"
    sleep 40
    kill -TERM $pid; wait $pid
    echo "--- requests"; cat /tmp/req.log
    echo "--- log"; grep -v "^$" /tmp/$1.log | grep -i "url\|service\|fail\|succeed\|HTTP" | tail -30
}
one kd /bin/keepalived
one kl /bin/keepalived-lite
kill $srv
echo "LVS-VM: done"
