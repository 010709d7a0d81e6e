// The XML grammar: what it reads (a tree with positions) and what it refuses, each with one
// exact `FILE:LINE:COL: message`.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  attributeOf,
  childElements,
  firstChild,
  parseXml,
  parseXmlBytes,
  textContent,
  type XmlElement,
} from '../../grammar/network-xml.js';
import { REPO_CORPUS } from '../helpers/env.js';
import { errorOf } from '../helpers/errors.js';

const XML_CORPUS = join(REPO_CORPUS, 'network-xml');

describe('the XML tree', () => {
  const doc = parseXml(readFileSync(join(XML_CORPUS, 'concatenated.xml'), 'utf8'), 'concatenated.xml');

  it('reads concatenated documents, each with its own prolog, as several roots', () => {
    expect(doc.roots.map((r) => textContent(firstChild(r, 'name')!))).toEqual(['lab-nat', 'lab-isolated', 'lab-route']);
    expect(doc.roots.map((r) => r.pos)).toEqual([
      { line: 4, col: 1 },
      { line: 27, col: 1 },
      { line: 34, col: 1 },
    ]);
  });

  it('merges CDATA, character references and predefined entities into the text', () => {
    const description = firstChild(doc.roots[0]!, 'description')!;
    expect(textContent(description)).toBe('NAT for the <lab> VMs & their builds \u2014 see "README"');
    expect(description.children).toHaveLength(1);
  });

  it('keeps attribute order, both quote styles, and the position of each name and value', () => {
    const bridge = firstChild(doc.roots[0]!, 'bridge')!;
    expect(bridge.attributes.map((a) => [a.name, a.value, a.pos.line, a.pos.col, a.valuePos.col])).toEqual([
      ['name', 'virbr10', 13, 11, 17],
      ['stp', 'on', 13, 26, 31],
      ['delay', '0', 13, 35, 42],
    ]);
    const host = childElements(firstChild(firstChild(doc.roots[0]!, 'ip')!, 'dhcp')!, 'host')[0]!;
    expect(attributeOf(host, 'name')?.value).toBe('build-01');
  });

  it('carries namespaced names verbatim without interpreting them', () => {
    const root = doc.roots[0]!;
    expect(attributeOf(root, 'xmlns:dnsmasq')?.value).toBe('http://libvirt.org/schemas/network/dnsmasq/1.0');
    const options = firstChild(root, 'dnsmasq:options')!;
    expect(childElements(options).map((o) => [o.name, attributeOf(o, 'value')?.value])).toEqual([
      ['dnsmasq:option', 'log-queries'],
    ]);
    expect(firstChild(root, 'options')).toBeUndefined();
  });

  it('keeps comments as nodes and element positions on one-line documents', () => {
    const one = parseXml('<a><!-- note --><b/><c x="1"/></a>', 'one.xml').roots[0]!;
    expect(one.children.map((c) => c.kind)).toEqual(['comment', 'element', 'element']);
    expect(childElements(one).map((e: XmlElement) => [e.name, e.pos.col])).toEqual([
      ['b', 17],
      ['c', 21],
    ]);
  });

  it('normalises whitespace in attribute values but not character references', () => {
    const el = parseXml('<a v="x\ty\nz" w="p&#10;q"/>', 'ws.xml').roots[0]!;
    expect(attributeOf(el, 'v')?.value).toBe('x y z');
    expect(attributeOf(el, 'w')?.value).toBe('p\nq');
  });

  it('skips a byte-order mark and counts CRLF as one line break', () => {
    const doc2 = parseXml('\ufeff<a>\r\n  <b/>\r\n</a>\r\n', 'crlf.xml');
    expect(childElements(doc2.roots[0]!)[0]!.pos).toEqual({ line: 2, col: 3 });
  });
});

describe('XML errors name FILE:LINE:COL and what is wrong', () => {
  const cases: Array<[string, string, string]> = [
    ['mismatched closing tag', '<a>\n  <b>\n</a>', 'x.xml:3:3: closing tag </a> does not match <b> (line 2, column 3)'],
    [
      'unclosed element at the end',
      '<network>\n  <name>x</name>\n',
      'x.xml:3:1: unexpected end of input: <network> (line 1, column 1) is not closed (expected </network>)',
    ],
    ['closing tag without start', '</network>', 'x.xml:1:1: closing tag </network> without a matching start tag'],
    [
      'attribute without value',
      '<bridge name>',
      "x.xml:1:13: attribute 'name' in <bridge> has no value (expected name='…'), found '>'",
    ],
    [
      'unquoted attribute value',
      '<bridge name=virbr0/>',
      "x.xml:1:14: attribute value in <bridge> must be quoted ('…' or \"…\"), found 'virbr0'",
    ],
    [
      'unterminated attribute value',
      '<bridge name="virbr0/>',
      'x.xml:1:14: attribute value in <bridge> is not closed (no matching ")',
    ],
    ['< inside an attribute value', "<a b='x<y'/>", "x.xml:1:8: '<' is not allowed in an attribute value (write &lt;)"],
    [
      'attribute given twice',
      "<a b='1' b='2'/>",
      "x.xml:1:10: attribute 'b' given twice in <a> (first at line 1, column 4)",
    ],
    ['no space between attributes', '<a b="1"c="2"/>', "x.xml:1:9: missing space before attribute 'c' in <a>"],
    [
      'space after <',
      '< a/>',
      "x.xml:1:3: '<' must be followed directly by the element name (found a space before 'a')",
    ],
    ['tag cut by the next tag', '<a>\n  <b\n</a>', "x.xml:3:1: <b> is not closed with '>' before the next '<'"],
    ['junk in a tag', '<a b="1" !/>', "x.xml:1:10: unexpected '!' in <a> (expected an attribute name, '>' or '/>')"],
    [
      'junk in a closing tag',
      '<a></a b>',
      "x.xml:1:8: expected '>' to end the closing tag </a> (line 1, column 4), found 'b'",
    ],
    ['empty tag name', '<a><></a>', "x.xml:1:5: expected an element name after '<', found '>'"],
    [
      'end of input inside a tag',
      '<a b="1"',
      'x.xml:1:9: unexpected end of input in the start tag of <a> (line 1, column 1)',
    ],
    [
      'undefined entity',
      '<a>&nbsp;</a>',
      "x.xml:1:4: undefined entity '&nbsp;' (only &lt; &gt; &amp; &apos; &quot; and character references are allowed; virtables reads no DTD)",
    ],
    [
      'undefined entity in an attribute',
      '<a\n b="x&copy;"/>',
      "x.xml:2:6: undefined entity '&copy;' (only &lt; &gt; &amp; &apos; &quot; and character references are allowed; virtables reads no DTD)",
    ],
    ['bad reference', '<a>&1x;</a>', "x.xml:1:4: bad reference '&1x;' (expected &name; or &#NUMBER;)"],
    [
      'bare ampersand',
      '<a>R&D</a>',
      "x.xml:1:5: '&' must start a reference such as &amp; (write &amp; for a literal '&')",
    ],
    [
      'bare ampersand in an attribute',
      '<a b="R&D"/>',
      "x.xml:1:8: '&' must start a reference such as &amp; (write &amp; for a literal '&')",
    ],
    ['NUL character reference', '<a>&#0;</a>', "x.xml:1:4: character reference '&#0;' is not a character XML allows"],
    [
      'huge character reference',
      '<a>&#99999999999;</a>',
      "x.xml:1:4: character reference '&#99999999999;' is not a character XML allows",
    ],
    [
      'DOCTYPE',
      '<!DOCTYPE network>\n<network/>',
      'x.xml:1:1: DOCTYPE declarations are refused (virtables reads no DTD: no external entities, no entity expansion)',
    ],
    [
      'entity declaration in content',
      '<a><!ENTITY x "y"></a>',
      'x.xml:1:4: entity declarations are refused (virtables reads no DTD: no external entities, no entity expansion)',
    ],
    [
      'other markup declaration',
      '<!ELEMENT a ANY><a/>',
      "x.xml:1:1: markup declaration '<!ELEMENT' is refused (virtables reads no DTD)",
    ],
    ['unclosed comment', '<a><!-- note</a>', "x.xml:1:4: comment is not closed with '-->'"],
    ['double dash in a comment', '<a><!-- a -- b --></a>', "x.xml:1:4: '--' is not allowed inside a comment"],
    ['unclosed CDATA', '<a><![CDATA[x</a>', "x.xml:1:4: CDATA section is not closed with ']]>'"],
    [
      'unclosed processing instruction',
      '<?xml version="1.0"\n<a/>',
      "x.xml:1:1: processing instruction is not closed with '?>'",
    ],
    [
      'XML declaration inside an element',
      '<a><?xml version="1.0"?></a>',
      "x.xml:1:4: XML declaration '<?xml …?>' inside <a>; it may only open a document",
    ],
    ['text outside the root', '<a/>\nstray text', "x.xml:2:1: text outside the root element: 'stray text'"],
    ['control character in text', '<a>x\u0007y</a>', 'x.xml:1:5: binary data (byte 0x07); expected text'],
    ['control character in an attribute', '<a b="x\u0001"/>', 'x.xml:1:8: binary data (byte 0x01); expected text'],
  ];
  it.each(cases)('%s', (_name, text, message) => {
    expect(errorOf(() => parseXml(text, 'x.xml'))).toBe(message);
  });

  it('refuses nesting deeper than 256 elements before the stack would overflow', () => {
    const deep = '<a>'.repeat(10_000) + '</a>'.repeat(10_000);
    expect(errorOf(() => parseXml(deep, 'deep.xml'))).toBe(
      'deep.xml:1:769: elements nested more than 256 deep; not a libvirt network definition',
    );
  });
});

describe('hostile and broken input files (corpus/network-xml/bad)', () => {
  const bad = (name: string) => join(XML_CORPUS, 'bad', name);
  const cases: Array<[string, string]> = [
    [
      'billion-laughs.xml',
      'billion-laughs.xml:2:1: DOCTYPE declarations are refused (virtables reads no DTD: no external entities, no entity expansion)',
    ],
    [
      'external-entity.xml',
      'external-entity.xml:2:1: DOCTYPE declarations are refused (virtables reads no DTD: no external entities, no entity expansion)',
    ],
    [
      'unclosed-tag.xml',
      'unclosed-tag.xml:9:1: unexpected end of input: <network> (line 1, column 1) is not closed (expected </network>)',
    ],
    [
      'mismatched-tag.xml',
      'mismatched-tag.xml:4:3: closing tag </network> does not match <forward> (line 3, column 3)',
    ],
    [
      'undefined-entity.xml',
      "undefined-entity.xml:2:9: undefined entity '&nbsp;' (only &lt; &gt; &amp; &apos; &quot; and character references are allowed; virtables reads no DTD)",
    ],
    ['binary-junk.xml', 'binary-junk.xml:3:7: binary data (byte 0x00); expected text'],
  ];
  it.each(cases)('%s', (name, message) => {
    expect(errorOf(() => parseXmlBytes(readFileSync(bad(name)), name))).toBe(message);
  });

  it('a 10 MB attribute value', () => {
    const text = `<network>\n  <name>big</name>\n  <bridge name="${'x'.repeat(10 * 1024 * 1024)}"/>\n</network>\n`;
    expect(errorOf(() => parseXml(text, 'big.xml'))).toBe(
      "big.xml:3:17: value of attribute 'name' in <bridge> is 10485760 characters long (more than 65536); not a libvirt network definition",
    );
  });

  it('10 MB of tiny elements', () => {
    const text = `<network>\n${'<a/>'.repeat(2_600_000)}\n</network>\n`;
    expect(errorOf(() => parseXml(text, 'tiny.xml'))).toBe(
      'tiny.xml:2:399997: more than 100000 tags, attributes and references; not a libvirt network definition',
    );
  });

  it('10 MB of text', () => {
    const text = `<network>\n  <description>${'y'.repeat(10 * 1024 * 1024)}</description>\n</network>\n`;
    expect(errorOf(() => parseXml(text, 'big.xml'))).toBe(
      'big.xml:2:16: text in <description> is 10485760 characters long (more than 1048576); not a libvirt network definition',
    );
  });
});
