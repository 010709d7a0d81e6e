#!/bin/sh
# Makes one set of every type this machine's kernel (6.x) has, with the options ipset 7.17 takes,
# in a private network namespace, and prints `ipset save`:  unshare -n sh make-sets.sh > every-type.save
# (hash:mac, hash:ip,mac, hash:net,net, hash:net,port,net and hash:ip,mark are not built into it.)
set -e
ipset create hip hash:ip family inet hashsize 1024 maxelem 65536 timeout 0 counters comment
ipset add hip 10.0.0.1 packets 5 bytes 300 comment "a host"
ipset add hip 10.0.0.2 timeout 100
ipset create hip6 hash:ip family inet6 netmask 64
ipset add hip6 2001:db8::1
ipset create hnet hash:net
ipset add hnet 10.1.0.0/16
ipset add hnet 10.1.2.0/24 nomatch
ipset add hnet 192.168.5.5
ipset add hnet 172.16.0.0-172.16.0.5
ipset create hnet6 hash:net family inet6
ipset add hnet6 2001:db8:1::/48
ipset add hnet6 2001:db8:1:2::/64 nomatch
ipset create hipport hash:ip,port
ipset add hipport 10.0.0.1,tcp:80
ipset add hipport 10.0.0.1,udp:53
ipset add hipport 10.0.0.1,icmp:ping
ipset add hipport 10.0.0.1,icmp:3/1
ipset add hipport 10.0.0.2,80
ipset add hipport 10.0.0.3,sctp:99
ipset add hipport 10.0.0.4,gre:0
ipset add hipport 10.0.0.9,253:0
ipset add hipport 10.0.0.9,tcp:ssh
ipset create hnetport6 hash:net,port family inet6
ipset add hnetport6 2001:db8::/32,tcp:443
ipset add hnetport6 2001:db8:1::1,ipv6-icmp:echo-request
ipset add hnetport6 2001:db8:1::2,ipv6-icmp:200/0
ipset create hnetiface hash:net,iface
ipset add hnetiface 10.0.0.0/8,eth0
ipset add hnetiface 10.2.0.0/16,physdev:vnet0
ipset add hnetiface 10.3.0.0/16,eth1 nomatch
ipset create bport bitmap:port range 1-1024
ipset add bport 22
ipset add bport 80-82
ipset create bip bitmap:ip range 192.168.0.0/24 netmask 28
ipset add bip 192.168.0.16
ipset create bipmac bitmap:ip,mac range 10.0.0.0-10.0.0.255
ipset add bipmac 10.0.0.5,52:54:00:aa:bb:cc
ipset add bipmac 10.0.0.6
ipset create hnetport hash:net,port
ipset add hnetport 10.0.0.0/8,tcp:22
ipset create hipportip hash:ip,port,ip
ipset add hipportip 10.0.0.1,tcp:22,10.0.0.2
ipset create hipportnet hash:ip,port,net
ipset add hipportnet 10.0.0.1,tcp:22,10.9.0.0/16
ipset create skb hash:ip skbinfo forceadd
ipset add skb 10.0.0.1 skbmark 0x10/0xff skbprio 1:2 skbqueue 3
ipset create bm hash:ip bitmask 255.255.0.0
ipset add bm 10.5.6.7
ipset create c hash:ip comment
ipset add c 10.0.0.1 comment 'with space, and: punct ! # $'
ipset create empty hash:net family inet6
ipset create lst list:set size 8
ipset add lst hip
ipset add lst hnet
ipset create lst2 list:set timeout 60
ipset add lst2 c timeout 100
ipset save
