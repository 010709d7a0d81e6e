// libvirt's command-line text (virCommandToString with line breaks): which words break the
// line and which get quoted.

import { describe, expect, it } from 'vitest';
import { formatArgs, shellWord } from '../../src/write/args.js';

describe('shellWord (virBufferEscapeShell)', () => {
  it('leaves plain words bare and quotes shell metacharacters', () => {
    expect(shellWord('192.168.122.0/24')).toBe('192.168.122.0/24');
    expect(shellWord('!')).toBe("'!'");
    expect(shellWord('!=')).toBe("'!='");
    expect(shellWord('{ type nat hook postrouting priority 100; policy accept; }')).toBe(
      "'{ type nat hook postrouting priority 100; policy accept; }'",
    );
    expect(shellWord("it's")).toBe("'it'\\''s'");
    expect(shellWord('')).toBe("''");
  });
});

describe('formatArgs', () => {
  it('starts a line at each option and keeps its values with it', () => {
    expect(formatArgs(['iptables', '-w', '--table', 'filter', '--insert', 'LIBVIRT_INP', '--jump', 'ACCEPT'])).toBe(
      'iptables \\\n-w \\\n--table filter \\\n--insert LIBVIRT_INP \\\n--jump ACCEPT',
    );
  });

  it("keeps a '!' on the line of the value before it when an option follows", () => {
    expect(formatArgs(['iptables', '--source', '10.0.0.0/8', '-p', 'udp', '!', '--destination', '10.0.0.0/8'])).toBe(
      "iptables \\\n--source 10.0.0.0/8 \\\n-p udp '!' \\\n--destination 10.0.0.0/8",
    );
  });

  it('puts every word of an option-less command on its own line', () => {
    expect(formatArgs(['tc', 'qdisc', 'show', 'dev', 'virbr0'])).toBe('tc \\\nqdisc \\\nshow \\\ndev \\\nvirbr0');
    expect(formatArgs(['nft', '-ae', 'insert', 'rule', 'ip'])).toBe('nft \\\n-ae insert \\\nrule \\\nip');
  });
});
