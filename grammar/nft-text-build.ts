// From the parsed blocks and lines of nft text to the nft model: tables, base-chain specs
// (`type filter hook input priority filter + 10; policy drop;`), chains, sets and maps, and named
// objects carried verbatim. Statements are read by nft-rule.ts. Errors carry FILE:LINE:COL.

import type { IToken } from './chevrotain.js';
import type {
  NftBaseChain,
  NftExpr,
  NftFamily,
  NftHook,
  NftRuleset,
  NftSet,
  NftTable,
  NftTextPos,
} from '../src/model/nft.js';
import { NFT_CHAIN_TYPES, NFT_FAMILIES, NFT_HOOKS, priorityValue } from '../src/model/nft.js';
import { InputError } from '../src/model/errors.js';
import type { BlockAst, ItemAst, LineAst, TableAst } from './nft-ast.js';
import { didYouMean } from './nft-build.js';
import { exprType } from '../src/model/nft-types.js';
import { durationSeconds, readElements, readExpression, readRule, type RuleContext } from './nft-rule.js';

export interface BuildContext {
  readonly file: string;
  readonly text: string;
  /** `# …` comments by line: `nft -a` writes `# handle N` after tables, chains, sets and rules. */
  readonly comments: ReadonlyArray<{ line: number; text: string }>;
}

const HANDLE = /^#\s*handle\s+(\d+)\s*$/;
/** The order nft lists set flags in (rule.c set_print_declaration). */
const SET_FLAG_ORDER: readonly string[] = ['constant', 'dynamic', 'interval', 'timeout'];

export function buildRuleset(tables: readonly TableAst[], ctx: BuildContext): NftRuleset {
  const handles = new Map<number, number>();
  for (const c of ctx.comments) {
    const m = HANDLE.exec(c.text);
    if (m) handles.set(c.line, Number(m[1]));
  }
  const b = new TextBuilder(ctx, handles);
  const out: NftTable[] = [];
  for (const t of tables) {
    const table = b.table(t, out);
    if (!out.includes(table)) out.push(table);
  }
  return { file: ctx.file, syntax: 'text', nftVersion: null, tables: out };
}

class TextBuilder {
  constructor(
    private readonly ctx: BuildContext,
    private readonly handles: ReadonlyMap<number, number>,
  ) {}

  private fail(at: { line: number; col: number }, message: string): never {
    throw new InputError(this.ctx.file, at.line, at.col, message);
  }

  private tokenPos(t: IToken): NftTextPos {
    return { line: t.startLine ?? 1, col: t.startColumn ?? 1 };
  }

  private handleAt(line: number): number | null {
    return this.handles.get(line) ?? null;
  }

  private name(t: IToken): string {
    return t.image.startsWith('"') ? t.image.slice(1, -1) : t.image;
  }

  /** A table; a second block of the same table (as `nft -f` files may have) adds to the first. */
  table(t: TableAst, seen: readonly NftTable[]): NftTable {
    let family: NftFamily = 'ip';
    if (t.family) {
      const f = t.family.image;
      if (!NFT_FAMILIES.includes(f as NftFamily))
        this.fail(
          this.tokenPos(t.family),
          `unknown table family '${f}'${didYouMean(f, NFT_FAMILIES)} (nft knows ${NFT_FAMILIES.join(', ')})`,
        );
      family = f as NftFamily;
    }
    const name = this.name(t.name);
    const pos = this.tokenPos(t.token);
    const table: NftTable = seen.find((x) => x.family === family && x.name === name) ?? {
      family,
      name,
      handle: this.handleAt(pos.line),
      pos,
      flags: [],
      comment: null,
      sets: [],
      chains: [],
      objects: [],
      owner: null,
    };
    const rctx: RuleContext = { family, text: this.ctx.text };
    for (const line of t.lines) this.tableLine(table, line);
    for (const block of t.blocks) {
      const kw = block.keyword.map((k) => k.image).join(' ');
      if (kw === 'chain') this.chain(table, block, rctx);
      else if (kw === 'set' || kw === 'map') this.set(table, block, kw, rctx);
      else
        table.objects.push({
          kind: 'unknown',
          pos: this.tokenPos(block.keyword[0]!),
          text: this.ctx.text.slice(block.start, block.end + 1),
          json: null,
          what: `${kw} ${this.name(block.name)}`,
        });
    }
    return table;
  }

  private tableLine(table: NftTable, line: LineAst): void {
    const [first, ...rest] = line.items;
    if (first?.kind === 'word' && first.image === 'flags') {
      (table.flags as string[]).push(...rest.filter((i) => i.kind === 'word').map((i) => i.image));
      return;
    }
    if (first?.kind === 'word' && first.image === 'comment' && rest.length === 1 && rest[0]!.kind === 'quoted') {
      (table as { comment: string | null }).comment = rest[0]!.image;
      return;
    }
    this.fail(
      line,
      `unexpected '${first?.image}' in table ${table.family} ${table.name} (a table holds chains, sets, maps, named objects, flags and a comment)`,
    );
  }

  private chain(table: NftTable, block: BlockAst, rctx: RuleContext): void {
    const name = this.name(block.name);
    const pos = this.tokenPos(block.keyword[0]!);
    let chain = table.chains.find((c) => c.name === name);
    if (!chain) {
      chain = {
        family: table.family,
        table: table.name,
        name,
        handle: this.handleAt(pos.line),
        pos,
        base: null,
        comment: null,
        rules: [],
      };
      table.chains.push(chain);
    }
    const spec: {
      type?: ItemAst;
      hook?: ItemAst;
      devices: string[];
      priority?: number;
      policy?: ItemAst;
      at?: LineAst;
    } = { devices: [] };
    for (const line of block.lines) {
      const first = line.items[0]!;
      if (first.kind === 'word' && first.image === 'type' && this.isSpec(line)) this.baseSpec(table.family, line, spec);
      else if (first.kind === 'word' && first.image === 'policy' && line.items.length === 2)
        spec.policy = line.items[1]!;
      else if (
        first.kind === 'word' &&
        first.image === 'comment' &&
        line.items.length === 2 &&
        line.items[1]!.kind === 'quoted'
      )
        (chain as { comment: string | null }).comment = line.items[1]!.image;
      else {
        const rule = readRule(line.items, rctx);
        chain.rules.push({
          family: table.family,
          table: table.name,
          chain: name,
          handle: this.handleAt(this.lastLine(line)),
          pos: { line: line.line, col: line.col },
          statements: rule.statements,
          comment: rule.comment,
        });
      }
    }
    if (spec.type && spec.hook) {
      const policy = spec.policy?.image ?? 'accept';
      if (policy !== 'accept' && policy !== 'drop')
        this.fail(spec.policy!, `chain policy must be accept or drop, found '${policy}'`);
      (chain as { base: NftBaseChain | null }).base = {
        type: spec.type.image as NftBaseChain['type'],
        hook: spec.hook.image as NftHook,
        priority: spec.priority ?? 0,
        policy,
        devices: spec.devices,
      };
    } else if (spec.policy) {
      this.fail(spec.policy, `a policy belongs to a base chain; chain ${name} has no 'type … hook … priority …' line`);
    }
  }

  /** The line a rule ends on (its `# handle N` comment is there). */
  private lastLine(line: LineAst): number {
    let last: ItemAst = line.items[line.items.length - 1]!;
    while (last.kind === 'group' && last.items.length > 0) last = last.items[last.items.length - 1]!;
    const text = this.ctx.text;
    let n = last.line;
    for (let i = last.start; i < last.end && i < text.length; i++) if (text.charCodeAt(i) === 10) n++;
    return n;
  }

  /** Is this `type X hook Y …` a base-chain spec (rather than a rule that starts with the word `type`)? */
  private isSpec(line: LineAst): boolean {
    return line.items.length >= 4 && line.items[2]?.kind === 'word' && line.items[2].image === 'hook';
  }

  /** `type filter hook input [device "eth0" | devices = { … }] priority filter + 10` (the `;` ended the line). */
  private baseSpec(
    family: NftFamily,
    line: LineAst,
    spec: { type?: ItemAst; hook?: ItemAst; devices: string[]; priority?: number },
  ): void {
    const items = line.items;
    const type = items[1]!;
    const hook = items[3]!;
    if (!NFT_CHAIN_TYPES.includes(type.image as NftBaseChain['type']))
      this.fail(
        type,
        `unknown chain type '${type.image}'${didYouMean(type.image, NFT_CHAIN_TYPES)} (nft knows ${NFT_CHAIN_TYPES.join(', ')})`,
      );
    if (!NFT_HOOKS.includes(hook.image as NftHook))
      this.fail(
        hook,
        `unknown hook '${hook.image}'${didYouMean(hook.image, NFT_HOOKS)} (nft knows ${NFT_HOOKS.join(', ')})`,
      );
    let i = 4;
    if (items[i]?.image === 'device' && items[i + 1]) {
      spec.devices.push(items[i + 1]!.image);
      i += 2;
    } else if (items[i]?.image === 'devices' && items[i + 1]?.image === '=' && items[i + 2]?.kind === 'group') {
      for (const d of items[i + 2]!.items) if (d.kind === 'word' || d.kind === 'quoted') spec.devices.push(d.image);
      i += 3;
    }
    const prio = items[i];
    if (prio?.image !== 'priority' || !items[i + 1])
      this.fail(prio ?? hook, `expected 'priority' in the base chain spec of a ${type.image} chain`);
    const value = items.slice(i + 1);
    spec.type = type;
    spec.hook = hook;
    spec.priority = this.priority(family, hook.image as NftHook, value);
  }

  /** `0`, `-300`, `filter`, `filter + 10`, `srcnat - 5`. */
  private priority(family: NftFamily, hook: NftHook, items: readonly ItemAst[]): number {
    const [base, op, offset] = items;
    const numeric = (i: ItemAst): number | null =>
      /^-?\d+$/.test(i.image) && i.kind === 'word' ? Number(i.image) : null;
    let value = numeric(base!);
    if (value === null) {
      value = priorityValue(base!.image, family, hook) ?? null;
      if (value === null) this.fail(base!, `priority '${base!.image}' is not defined for ${family} ${hook} chains`);
    }
    if (op === undefined) return value!;
    const off = offset ? numeric(offset) : null;
    if ((op.image !== '+' && op.image !== '-') || off === null || items.length > 3)
      this.fail(op, `expected a priority like 'filter', 'filter + 10' or '-5'`);
    return op.image === '+' ? value! + off! : value! - off!;
  }

  private set(table: NftTable, block: BlockAst, kind: 'set' | 'map', rctx: RuleContext): void {
    const name = this.name(block.name);
    const pos = this.tokenPos(block.keyword[0]!);
    const set: {
      -readonly [K in keyof NftSet]: NftSet[K];
    } = {
      family: table.family,
      table: table.name,
      name,
      handle: this.handleAt(pos.line),
      pos,
      type: [],
      typeof: null,
      map: kind === 'map' ? [] : null,
      flags: [],
      elements: [],
      timeout: null,
      gcInterval: null,
      size: null,
      policy: null,
      comment: null,
      unknown: [],
    };
    const pending: LineAst[] = [];
    for (const line of block.lines) {
      const [first, ...rest] = line.items;
      const w = first?.kind === 'word' ? first.image : '';
      if (w === 'type') {
        const [key, value] = this.splitTypes(rest);
        set.type = key;
        if (kind === 'map') set.map = value ?? this.fail(line, `map ${name}: expected 'type KEY : VALUE'`);
      } else if (w === 'typeof') {
        set.typeof = this.ctx.text.slice(rest[0]?.start ?? first!.end, rest[rest.length - 1]?.end ?? first!.end);
        const [key, value] = this.splitOn(rest, ':');
        set.type = this.typesOf(key, rctx);
        if (kind === 'map')
          set.map = value ? this.typesOf(value, rctx) : this.fail(line, `map ${name}: expected 'typeof KEY : VALUE'`);
      } else if (w === 'flags') {
        set.flags = rest.filter((i) => i.kind === 'word').map((i) => i.image);
      } else if (w === 'timeout' || w === 'gc-interval') {
        const s = rest.length === 1 ? durationSeconds(rest[0]!.image) : null;
        if (s === null) this.fail(line, `${w}: expected a duration such as 1h or 30s`);
        if (w === 'timeout') set.timeout = s;
        else set.gcInterval = s;
      } else if (w === 'size' && rest.length === 1 && /^\d+$/.test(rest[0]!.image)) {
        set.size = Number(rest[0]!.image);
      } else if (
        w === 'policy' &&
        rest.length === 1 &&
        (rest[0]!.image === 'memory' || rest[0]!.image === 'performance')
      ) {
        set.policy = rest[0]!.image as 'memory' | 'performance';
      } else if (w === 'comment' && rest.length === 1 && rest[0]!.kind === 'quoted') {
        set.comment = rest[0]!.image;
      } else if (w === 'elements' && rest[0]?.image === '=' && rest[1]?.kind === 'group' && rest.length === 2) {
        pending.push(line);
      } else {
        (set.unknown as string[]).push(this.ctx.text.slice(first!.start, line.items[line.items.length - 1]!.end));
      }
    }
    if (set.type.length === 0) this.fail(pos, `${kind} ${name} has no 'type' or 'typeof' line`);
    // The kernel sets the timeout flag for a set with a default timeout; flags list in nft's order.
    const flags = new Set(set.flags.map((f) => (f === 'eval' ? 'dynamic' : f)));
    if (set.timeout !== null) flags.add('timeout');
    set.flags = [
      ...SET_FLAG_ORDER.filter((f) => flags.has(f)),
      ...[...flags].filter((f) => !SET_FLAG_ORDER.includes(f)),
    ];
    const verdicts = set.map?.length === 1 && set.map[0] === 'verdict';
    for (const line of pending) set.elements.push(...readElements(line.items[2]!.items, rctx, { verdicts }));
    if (table.sets.some((s) => s.name === name))
      this.fail(pos, `${kind} ${name} is defined twice in table ${table.family} ${table.name}`);
    table.sets.push(set);
  }

  /** `ipv4_addr . inet_service : verdict` → [[ipv4_addr, inet_service], [verdict]]. */
  private splitTypes(items: readonly ItemAst[]): [string[], string[] | null] {
    const [key, value] = this.splitOn(items, ':');
    const names = (part: readonly ItemAst[]): string[] => part.filter((i) => i.kind === 'word').map((i) => i.image);
    return [names(key), value ? names(value) : null];
  }

  private splitOn(items: readonly ItemAst[], op: string): [ItemAst[], ItemAst[] | null] {
    const at = items.findIndex((i) => i.kind === 'op' && i.image === op);
    return at < 0 ? [[...items], null] : [items.slice(0, at), items.slice(at + 1)];
  }

  /** The datatypes of a `typeof` expression (`ip saddr . tcp dport` → ipv4_addr, inet_service). */
  private typesOf(items: readonly ItemAst[], rctx: RuleContext): string[] {
    const expr: NftExpr | null = readExpression(items, rctx);
    if (!expr) return [this.ctx.text.slice(items[0]?.start ?? 0, items[items.length - 1]?.end ?? 0)];
    const parts = expr.kind === 'concat' ? expr.items : [expr];
    return parts.map((p) => exprType(p, rctx.family) ?? 'unknown');
  }
}
