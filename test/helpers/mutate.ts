// A seeded mutator of iptables-save dumps: small changes to one rule or chain line (a word
// dropped, doubled, swapped or replaced by a tricky value, a '!' added, a number nudged), so
// the result is sometimes still a dump the kernel loads and sometimes not. The same seed
// always gives the same mutants.

/** mulberry32: a small, fast, seedable PRNG. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Values that sit on the edges of what iptables accepts. */
const TRICKY = ['0', '65535', '65536', '-1', '0x10', '010', '08', '1:', ':2', '5:4', '255', '256', '!', '""', 'x', '10.1', '10.0.0.0/33', '::/0', 'ALL', 'NEW,', 'ssh', 'DROP', 'RETURN', '--', '-x'];

export interface Mutant {
  readonly text: string;
  /** What was changed, for messages. */
  readonly change: string;
}

export function mutate(text: string, seed: number): Mutant {
  const random = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const lines = text.split('\n');
  const candidates = lines.map((l, i) => ({ l, i })).filter(({ l }) => l.startsWith('-A ') || l.startsWith(':'));
  if (candidates.length === 0) return { text, change: 'none' };
  const { l, i } = pick(candidates);
  const words = l.split(' ');
  const at = 1 + Math.floor(random() * Math.max(1, words.length - 1));
  let change: string;
  switch (Math.floor(random() * 7)) {
    case 0:
      change = `dropped '${words[at]}'`;
      words.splice(at, 1);
      break;
    case 1:
      change = `doubled '${words[at]}'`;
      words.splice(at, 0, words[at] ?? '');
      break;
    case 2:
      change = `swapped '${words[at]}' and '${words[at + 1]}'`;
      if (at + 1 < words.length) [words[at], words[at + 1]] = [words[at + 1]!, words[at]!];
      break;
    case 3: {
      const v = pick(TRICKY);
      change = `'${words[at]}' → '${v}'`;
      words[at] = v;
      break;
    }
    case 4: {
      const options = words.map((w, j) => ({ w, j })).filter(({ w }) => w.startsWith('-') && w !== '-A');
      const o = options.length > 0 ? pick(options) : { w: words[at], j: at };
      change = `'!' before '${o.w}'`;
      words.splice(o.j, 0, '!');
      break;
    }
    case 5: {
      const nums = words.map((w, j) => ({ w, j })).filter(({ w }) => /^\d+$/.test(w));
      if (nums.length === 0) {
        change = 'truncated';
        words.splice(at);
        break;
      }
      const n = pick(nums);
      const v = String(Number(n.w) + (random() < 0.5 ? -1 : 1) * (random() < 0.5 ? 1 : 65536));
      change = `'${n.w}' → '${v}'`;
      words[n.j] = v;
      break;
    }
    default:
      change = 'truncated';
      words.splice(at);
  }
  lines[i] = words.join(' ');
  return { text: lines.join('\n'), change: `line ${i + 1}: ${change}` };
}
