// Service names as getservbyname()/getaddrinfo() resolve them on Debian 12 (netbase 6.4's
// /etc/services, IANA's names): iptables 1.8.9 accepts them wherever it takes a port.
// Each entry is NAME:PORT:PROTOS, PROTOS being t (tcp), u (udp), s (sctp) or o (only ddp).

const TABLE =
  'tcpmux:1:t echo:7:tu discard:9:tu null:9:tu sink:9:tu systat:11:t users:11:t daytime:13:tu ' +
  'netstat:15:t qotd:17:t quote:17:t chargen:19:tu source:19:tu ttytst:19:tu ftp-data:20:t fsp:21:u ' +
  'fspd:21:u ftp:21:t ssh:22:t telnet:23:t mail:25:t smtp:25:t time:37:tu timserver:37:tu nicname:43:t ' +
  'whois:43:t tacacs:49:tu domain:53:tu bootps:67:u bootpc:68:u tftp:69:u gopher:70:t finger:79:t ' +
  'http:80:t www:80:t kerberos:88:tu kerberos-sec:88:tu kerberos5:88:tu krb5:88:tu iso-tsap:102:t ' +
  'tsap:102:t acr-nema:104:t dicom:104:t poppassd:106:t pop-3:110:t pop3:110:t portmapper:111:tu ' +
  'sunrpc:111:tu auth:113:t authentication:113:t ident:113:t tap:113:t nntp:119:t readnews:119:t ' +
  'untp:119:t ntp:123:u epmap:135:t loc-srv:135:t netbios-ns:137:u netbios-dgm:138:u netbios-ssn:139:t ' +
  'imap:143:t imap2:143:t snmp:161:tu snmp-trap:162:tu snmptrap:162:tu cmip-man:163:tu ' +
  'cmip-agent:164:tu mailq:174:t xdmcp:177:u bgp:179:t smux:199:t qmtp:209:t wais:210:t z3950:210:t ' +
  'ipx:213:u ptp-event:319:u ptp-general:320:u pawserv:345:t zserv:346:t rpc2portmap:369:tu ' +
  'codaauth2:370:tu Clearcase:371:u clearcase:371:u ldap:389:tu svrloc:427:tu https:443:tu snpp:444:t ' +
  'microsoft-ds:445:t kpasswd:464:tu smtps:465:t ssmtp:465:t submissions:465:t urd:465:t saft:487:t ' +
  'isakmp:500:u biff:512:u comsat:512:u exec:512:t login:513:t who:513:u whod:513:u cmd:514:t ' +
  'shell:514:t syslog:514:tu printer:515:t spooler:515:t talk:517:u ntalk:518:u route:520:u ' +
  'routed:520:u router:520:u gdomap:538:tu uucp:540:t uucpd:540:t klogin:543:t krcmd:544:t kshell:544:t ' +
  'dhcpv6-client:546:u dhcpv6-server:547:u afpovertcp:548:t rtsp:554:tu nntps:563:t snntp:563:t ' +
  'submission:587:t nqs:607:t asf-rmcp:623:u qmqp:628:t ipp:631:t ldaps:636:tu ldp:646:tu tinc:655:tu ' +
  'silc:706:t kerberos-adm:749:t kdc:750:tu kerberos-iv:750:tu kerberos4:750:tu kerberos-master:751:tu ' +
  'kerberos_master:751:u passwd-server:752:u passwd_server:752:u hprop:754:t krb-prop:754:t ' +
  'krb5_prop:754:t krb_prop:754:t moira-db:775:t moira_db:775:t moira-update:777:t moira_update:777:t ' +
  'moira-ureg:779:u moira_ureg:779:u spamd:783:t domain-s:853:tu supfilesrv:871:t rsync:873:t ' +
  'ftps-data:989:t ftps:990:t telnets:992:t imaps:993:t pop3s:995:t socks:1080:t proofd:1093:t ' +
  'rootd:1094:t rmiregistry:1099:t supfiledbg:1127:t skkserv:1178:t openvpn:1194:tu predict:1210:u ' +
  'rmtcfg:1236:t xtel:1313:t xtelw:1314:t lotusnote:1352:t lotusnotes:1352:t ms-sql-s:1433:t ' +
  'ms-sql-m:1434:u ingreslock:1524:t datametrics:1645:tu old-radius:1645:tu old-radacct:1646:tu ' +
  'sa-msg-port:1646:tu kermit:1649:t groupwise:1677:t l2f:1701:u l2tp:1701:u radius:1812:tu ' +
  'radacct:1813:tu radius-acct:1813:tu cisco-sccp:2000:t nfs:2049:tu gnunet:2086:tu rtcm-sc104:2101:tu ' +
  'zephyr-srv:2102:u zephyr-clt:2103:u zephyr-hm:2104:u gsigatekeeper:2119:t iprop:2121:t gris:2135:t ' +
  'cvspserver:2401:t venus:2430:tu venus-se:2431:tu codasrv:2432:tu codasrv-se:2433:tu mon:2583:tu ' +
  'zebrasrv:2600:t zebra:2601:t ripd:2602:t ripngd:2603:t ospfd:2604:t bgpd:2605:t ospf6d:2606:t ' +
  'ospfapi:2607:t isisd:2608:t dict:2628:t f5-globalsite:2792:t gsiftp:2811:t gpsd:2947:t gds-db:3050:t ' +
  'gds_db:3050:t icp:3130:u icpv2:3130:u isns:3205:tu iscsi-target:3260:t mysql:3306:t ' +
  'ms-wbt-server:3389:t nut:3493:tu distcc:3632:t daap:3689:t subversion:3690:t svn:3690:t suucp:4031:t ' +
  'sysrqd:4094:t sieve:4190:t f5-iquery:4353:t epmd:4369:t remctl:4373:t ntske:4460:t ' +
  'ipsec-nat-t:4500:u fax:4557:t hylafax:4559:t iax:4569:u mtn:4691:t radmin-port:4899:t lrrd:4949:t ' +
  'munin:4949:t sip:5060:tu sip-tls:5061:tu jabber-client:5222:t xmpp-client:5222:t ' +
  'jabber-server:5269:t xmpp-server:5269:t cfengine:5308:t mdns:5353:u postgres:5432:t ' +
  'postgresql:5432:t rplay:5555:u freeciv:5556:t rptp:5556:t nrpe:5666:t nsca:5667:t amqps:5671:t ' +
  'amqp:5672:ts canna:5680:t x11:6000:t x11-0:6000:t x11-1:6001:t x11-2:6002:t x11-3:6003:t x11-4:6004:t ' +
  'x11-5:6005:t x11-6:6006:t x11-7:6007:t gnutella-svc:6346:tu gnutella-rtr:6347:tu redis:6379:t ' +
  'sge-qmaster:6444:t sge_qmaster:6444:t sge-execd:6445:t sge_execd:6445:t mysql-proxy:6446:t ' +
  'syslog-tls:6514:t sane:6566:t sane-port:6566:t saned:6566:t ircd:6667:t babel:6696:u ircs-u:6697:t ' +
  'afs3-fileserver:7000:u bbs:7000:t afs3-callback:7001:u afs3-prserver:7002:u afs3-vlserver:7003:u ' +
  'afs3-kaserver:7004:u afs3-volser:7005:u afs3-bos:7007:u afs3-update:7008:u afs3-rmtsys:7009:u ' +
  'font-service:7100:t xfs:7100:t zope-ftp:8021:t http-alt:8080:t webcache:8080:t tproxy:8081:t ' +
  'omniorb:8088:t puppet:8140:t clc-build-daemon:8990:t xinetd:9098:t bacula-dir:9101:t ' +
  'bacula-fd:9102:t bacula-sd:9103:t git:9418:t xmms2:9667:t zope:9673:t webmin:10000:t ' +
  'zabbix-agent:10050:t zabbix-trapper:10051:t amanda:10080:t kamanda:10081:t amandaidx:10082:t ' +
  'amidxtape:10083:t nbd:10809:t hkp:11371:t sgi-cmsd:17001:u sgi-crsd:17002:u sgi-gcd:17003:u ' +
  'sgi-cad:17004:t db-lsp:17500:t dcap:22125:t gsidcap:22128:t wnn6:22273:t binkp:24554:t asp:27374:tu ' +
  'csync2:30865:t dircproxy:57000:t tfido:60177:t fido:60179:t ';

const TCP = new Map<string, number>();
const UDP = new Map<string, number>();
const SCTP = new Map<string, number>();
const ANY = new Map<string, number>();
for (const entry of TABLE.split(' ')) {
  if (entry === '') continue;
  const [name, port, protos] = entry.split(':') as [string, string, string];
  const n = Number(port);
  ANY.set(name, n);
  if (protos.includes('t')) TCP.set(name, n);
  if (protos.includes('u')) UDP.set(name, n);
  if (protos.includes('s')) SCTP.set(name, n);
}

/** The port getservbyname(NAME, PROTO) finds (PROTO 'any': what getaddrinfo finds), or undefined. */
export function servicePort(name: string, proto: 'tcp' | 'udp' | 'sctp' | 'any'): number | undefined {
  return (proto === 'tcp' ? TCP : proto === 'udp' ? UDP : proto === 'sctp' ? SCTP : ANY).get(name);
}
