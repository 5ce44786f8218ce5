#!/bin/sh
# Runs inside the ipvs test VM (ipvs/vm/run-vm.sh): guest-parity.sh (as
# /bin/guest-parity.sh) once per NAME argument, all in one boot, on
# /etc/parity/NAME.conf with /etc/parity/NAME.servers (and
# /etc/parity/NAME.reload if there is one). Its lines "LVS-VM: ok STEP"
# become "LVS-VM: ok NAME/STEP"; stops at the first failure.
set -u
for name in "$@"; do
    cp "/etc/parity/$name.conf" /etc/parity.conf
    cp "/etc/parity/$name.servers" /etc/parity.servers
    rm -f /etc/parity.reload
    if [ -f "/etc/parity/$name.reload" ]; then cp "/etc/parity/$name.reload" /etc/parity.reload; fi
    sh /bin/guest-parity.sh > /tmp/parity.out 2>&1
    rc=$?
    sed -e "s#^LVS-VM: ok #LVS-VM: ok $name/#" -e "s#^LVS-VM: done#LVS-VM: $name done#" /tmp/parity.out
    [ $rc -eq 0 ] || { echo "LVS-VM: FAIL $name (status $rc)"; exit 1; }
done
echo "LVS-VM: done"
