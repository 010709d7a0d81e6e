// The lexers skip chevrotain's definition checks at start-up (they cost tens of milliseconds of
// every `virtables audit`); here each definition is built again with the checks on.

import { describe, expect, it } from 'vitest';
import { Lexer } from '../../grammar/chevrotain.js';
import { lineLexer } from '../../grammar/iptables-save.js';
import { listLexer } from '../../grammar/listing.js';
import { xmlLexer } from '../../grammar/network-xml.js';

describe('lexer definitions pass chevrotain’s checks', () => {
  for (const [name, lexer] of [['iptables-save', lineLexer], ['iptables -L listing', listLexer], ['network XML', xmlLexer]] as const) {
    it(name, () => {
      // chevrotain keeps the definition it was given (not in its typings).
      const definition = (lexer as unknown as { lexerDefinition: ConstructorParameters<typeof Lexer>[0] }).lexerDefinition;
      expect(definition).toBeDefined();
      const checked = new Lexer(definition, { positionTracking: 'full', skipValidations: false, deferDefinitionErrorsHandling: true });
      expect(checked.lexerDefinitionErrors).toEqual([]);
      // And it reads as the start-up one does.
      const text = name === 'network XML' ? "<network><name>default</name></network>" : '-A INPUT -s 10.0.0.1/32 -j ACCEPT';
      expect(checked.tokenize(text).tokens.map((t) => t.image)).toEqual(lexer.tokenize(text).tokens.map((t) => t.image));
    });
  }
});
