// A big libvirt host for benchmarks and index checks: NAT networks (libvirt 5.1+ private
// chains), each with a guest whose ports are forwarded from the uplink (DNAT + FORWARD accept).

export function subnet(i: number): string {
  return `172.${16 + (i >> 8)}.${i & 255}`;
}

/** libvirt's rules for `networks` NAT networks (last started first, as -I leaves them) plus port forwards. */
export function bigDump(networks: number, forwards: number): string {
  const chains: Record<string, string[]> = {};
  const add = (table: string, chain: string, rule: string): void => {
    (chains[`${table} ${chain}`] ??= []).push(`-A ${chain} ${rule}`);
  };
  add('filter', 'INPUT', '-j LIBVIRT_INP');
  add('filter', 'OUTPUT', '-j LIBVIRT_OUT');
  for (const c of ['LIBVIRT_FWX', 'LIBVIRT_FWI', 'LIBVIRT_FWO']) add('filter', 'FORWARD', `-j ${c}`);
  add('nat', 'POSTROUTING', '-j LIBVIRT_PRT');
  add('mangle', 'POSTROUTING', '-j LIBVIRT_PRT');
  for (let i = networks - 1; i >= 0; i--) {
    const br = `virbr${i}`;
    const n = `${subnet(i)}.0/24`;
    for (const p of ['udp 53', 'tcp 53', 'udp 67', 'tcp 67']) {
      const [proto, port] = p.split(' ');
      add('filter', 'LIBVIRT_INP', `-i ${br} -p ${proto} -m ${proto} --dport ${port} -j ACCEPT`);
    }
    for (const p of ['udp 53', 'tcp 53', 'udp 68', 'tcp 68']) {
      const [proto, port] = p.split(' ');
      add('filter', 'LIBVIRT_OUT', `-o ${br} -p ${proto} -m ${proto} --dport ${port} -j ACCEPT`);
    }
    add('filter', 'LIBVIRT_FWI', `-d ${n} -o ${br} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`);
    add('filter', 'LIBVIRT_FWI', `-o ${br} -j REJECT --reject-with icmp-port-unreachable`);
    add('filter', 'LIBVIRT_FWO', `-s ${n} -i ${br} -j ACCEPT`);
    add('filter', 'LIBVIRT_FWO', `-i ${br} -j REJECT --reject-with icmp-port-unreachable`);
    add('filter', 'LIBVIRT_FWX', `-i ${br} -o ${br} -j ACCEPT`);
    add('nat', 'LIBVIRT_PRT', `-s ${n} -d 224.0.0.0/24 -j RETURN`);
    add('nat', 'LIBVIRT_PRT', `-s ${n} -d 255.255.255.255/32 -j RETURN`);
    add('nat', 'LIBVIRT_PRT', `-s ${n} ! -d ${n} -p tcp -j MASQUERADE --to-ports 1024-65535`);
    add('nat', 'LIBVIRT_PRT', `-s ${n} ! -d ${n} -p udp -j MASQUERADE --to-ports 1024-65535`);
    add('nat', 'LIBVIRT_PRT', `-s ${n} ! -d ${n} -j MASQUERADE`);
    add('mangle', 'LIBVIRT_PRT', `-o ${br} -p udp -m udp --dport 68 -j CHECKSUM --checksum-fill`);
    for (let k = 0; k < forwards; k++) {
      add(
        'nat',
        'PREROUTING',
        `-d 10.0.2.15/32 -p tcp -m tcp --dport ${10000 + i * forwards + k} -j DNAT --to-destination ${subnet(i)}.10:${1000 + k}`,
      );
      add('filter', 'FORWARD', `-d ${subnet(i)}.10/32 -o ${br} -p tcp -m tcp --dport ${1000 + k} -j ACCEPT`);
    }
  }
  // The port-forward accepts must sit above libvirt's jumps (they were inserted after).
  const forward = chains['filter FORWARD']!;
  chains['filter FORWARD'] = [...forward.slice(3), ...forward.slice(0, 3)];
  const tables: Record<string, string[]> = {
    mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING', 'LIBVIRT_PRT'],
    filter: ['INPUT', 'FORWARD', 'OUTPUT', 'LIBVIRT_FWI', 'LIBVIRT_FWO', 'LIBVIRT_FWX', 'LIBVIRT_INP', 'LIBVIRT_OUT'],
    nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING', 'LIBVIRT_PRT'],
  };
  const out: string[] = [];
  for (const [table, names] of Object.entries(tables)) {
    out.push(`*${table}`);
    for (const c of names) out.push(`:${c} ${c.startsWith('LIBVIRT') ? '-' : 'ACCEPT'} [0:0]`);
    for (const c of names) out.push(...(chains[`${table} ${c}`] ?? []));
    out.push('COMMIT');
  }
  return out.join('\n') + '\n';
}
