#!/bin/bash
# Runs INSIDE `unshare -n -m --propagation private --fork` (test/kernel/live.test.ts), after the
# method of ../shared/tools/libvirt-oracle/inner.sh: a private /run (no D-Bus, so no firewalld),
# /sys, /etc/libvirt and /var/{lib,cache,log}/libvirt, libvirtd 9.0 with the network driver only,
# a veth eth0 uplink. Defines networks, starts some, runs the given command (virtables live) in
# this namespace, then stops the networks and the daemon. Nothing outside the namespace changes.
# Usage: OUT=dir START='a.xml …' DEFINE='b.xml …' live-libvirtd.sh COMMAND [ARG…]
set -u
mkdir -p "$OUT"
exec 3>"$OUT/harness.log"
log() { echo "$*" >&3; }

mount --make-rprivate /
mount -t sysfs sysfs /sys
mount -t tmpfs tmpfs /run
mkdir -p /run/lock /run/libvirt
# /var/{lib,cache,log} become overlays whose writes land in a tmpfs (this package set does not
# create /var/lib/libvirt, and the host's must not be created or touched); libvirt's own are empty.
mkdir -p "$OUT/.var" && mount -t tmpfs tmpfs "$OUT/.var" || exit 90
for d in lib cache log; do
  mkdir -p "$OUT/.var/$d.up" "$OUT/.var/$d.work"
  mount -t overlay overlay -o "lowerdir=/var/$d,upperdir=$OUT/.var/$d.up,workdir=$OUT/.var/$d.work" "/var/$d" || exit 90
  rm -rf "/var/$d/libvirt"; mkdir -p "/var/$d/libvirt"
done
ETC="$OUT/.etc-libvirt"; mkdir -p "$ETC"; cp -a /etc/libvirt/. "$ETC"/
mount --bind "$ETC" /etc/libvirt
# the connection drivers libvirtd loads: the network driver alone (QEMU's needs a libvirt-qemu user)
NETDRV=$(ls /usr/lib/*/libvirt/connection-driver/libvirt_driver_network.so /usr/lib*/libvirt/connection-driver/libvirt_driver_network.so 2>/dev/null | head -1)
[ -n "$NETDRV" ] || { echo "no libvirt_driver_network.so" >&2; exit 91; }
DRV="$OUT/.driver"; mkdir -p "$DRV"
cp "$NETDRV" "$DRV"/
mount --bind "$DRV" "$(dirname "$NETDRV")"

ip link set lo up
ip link add eth0 type veth peer name uplink0
ip link set uplink0 up
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2 dev eth0

started=()
LVPID=
cleanup() { # stop the networks, the daemon and the dnsmasq it started, however the script ends
  [ -n "$LVPID" ] || return
  for n in "${started[@]}"; do "${V[@]}" net-destroy "$n" >&3 2>&1; done
  DNSPIDS=$(cat /run/libvirt/network/*.pid 2>/dev/null | tr '\n' ' ')
  kill "$LVPID"; wait "$LVPID" 2>/dev/null
  for p in $DNSPIDS; do
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$p" 2>/dev/null && kill "$p"
  done
  LVPID=
}
trap cleanup EXIT
trap 'exit 143' TERM INT

/usr/sbin/libvirtd </dev/null >"$OUT/libvirtd.log" 2>&1 &
LVPID=$!
for _ in $(seq 1 50); do [ -S /run/libvirt/libvirt-sock ] && break; sleep 0.2; done
URI='network:///system?mode=legacy'
V=(virsh -q -c "$URI")

for x in ${START:-}; do
  n=$(sed -n 's:.*<name>\(.*\)</name>.*:\1:p' "$x" | head -1)
  "${V[@]}" net-define "$x" >&3 2>&1 && "${V[@]}" net-start "$n" >&3 2>&1 || { log "could not start $n"; exit 92; }
  started+=("$n")
done
for x in ${DEFINE:-}; do "${V[@]}" net-define "$x" >&3 2>&1 || { log "could not define $x"; exit 93; }; done
"${V[@]}" net-list --all >&3 2>&1

"$@" </dev/null >"$OUT/stdout" 2>"$OUT/stderr"
echo $? >"$OUT/rc"

cleanup
exit 0
