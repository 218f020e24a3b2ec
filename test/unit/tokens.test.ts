import { Tiktoken } from 'js-tiktoken/lite';
import cl100k from 'js-tiktoken/ranks/cl100k_base';
import { describe, expect, it } from 'vitest';
import { countJsonTokens, countTokens } from '../../src/tokens/count.js';

// The reference: js-tiktoken's own encoder over the same ranks.
const reference = new Tiktoken(cl100k);
const referenceCount = (text: string) => reference.encode(text).length;

/** A small deterministic generator, so a failure names a text that can be reproduced. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

// Character classes the cl100k pattern treats differently: letters, digits, punctuation, every kind of
// whitespace and line break, apostrophe suffixes, and letters outside ASCII (accents, CJK, emoji with
// joiners and variation selectors, right-to-left script).
const ALPHABET = [
  ...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789',
  ...' \t\n\r  ',
  ...`.,;:!?'"()[]{}<>|/\\-_=+*&^%$#@~\``,
  "'s",
  "'ll",
  "'RE",
  'é',
  'ß',
  'ø',
  'Ж',
  '日本',
  '語',
  '한',
  'ع',
  '😀',
  '👩‍💻',
  '❤️',
  '\u00a0',
  '\u2028',
  '€',
];

function randomText(next: () => number, length: number): string {
  let text = '';
  while (text.length < length) {
    const r = next();
    // Runs of one class make long words, numbers and whitespace, where merging matters most.
    const run = r < 0.3 ? 1 + Math.floor(next() * 12) : 1;
    const piece = ALPHABET[Math.floor(next() * ALPHABET.length)]!;
    text += piece.repeat(run);
  }
  return text;
}

describe('countTokens', () => {
  it('agrees with js-tiktoken on tool definitions, prose, code and numbers', () => {
    const texts = [
      JSON.stringify({
        name: 'filesystem.read_text_file',
        description: 'Read the complete contents of a file from the file system as text. Handles various encodings.',
        inputSchema: { type: 'object', properties: { path: { type: 'string' }, head: { type: 'number' } }, required: ['path'] },
      }),
      'Supercalifragilisticexpialidocious antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis',
      'function  countTokens(text)  {\n\t\treturn   text.length;\r\n}\n\n\n   ',
      '1234567890 3.14159265358979 0x7fffffff 1e-10 2026-11-23T19:50:30Z',
      "It's what they'll say; WE'RE here — isn't it?",
      'Ünïcödé façade naïve coöperate 東京都の天気を教えて 😀👍🏽 مرحبا بالعالم',
      ' '.repeat(200) + 'x' + '\n'.repeat(50) + '!'.repeat(300),
    ];
    for (const text of texts) expect(countTokens(text), text).toBe(referenceCount(text));
  });

  it('agrees with js-tiktoken on 400 random texts over every character class', () => {
    const next = random(42);
    for (let i = 0; i < 400; i++) {
      const text = randomText(next, 1 + Math.floor(next() * 300));
      expect(countTokens(text), JSON.stringify(text)).toBe(referenceCount(text));
    }
  });

  it('counts JSON as the text of JSON.stringify', () => {
    const value = { tools: [{ name: 'a.b', description: 'reads “quoted” text', inputSchema: {} }], n: 12345 };
    expect(countJsonTokens(value)).toBe(referenceCount(JSON.stringify(value)));
  });

  it('rejects special tokens as js-tiktoken does', () => {
    expect(() => countTokens('before <|endoftext|> after')).toThrow(/special token/);
    // Text that only looks like the start of one is ordinary text.
    expect(countTokens('a <| b |> c')).toBe(referenceCount('a <| b |> c'));
  });
});
