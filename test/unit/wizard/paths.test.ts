import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandHome, typedPath, unquoteShellWord } from '../../../src/wizard/paths.js';

describe('unquoteShellWord: paths as drag-and-drop and ls give them', () => {
  it.each([
    ["'/home/me/Downloads/acme key.json'", '/home/me/Downloads/acme key.json'],
    ["'/home/me/Downloads/acme key.json' ", '/home/me/Downloads/acme key.json'], // GNOME Terminal adds a space
    ['"~/Downloads/acme key.json"', '~/Downloads/acme key.json'],
    ['~/Downloads/acme\\ key.json', '~/Downloads/acme key.json'],
    ["'~/Downloads/acme key.json'", '~/Downloads/acme key.json'],
    ["'/tmp/it'\\''s.json'", "/tmp/it's.json"], // how shells quote a quote inside single quotes
    ['"/tmp/a \\"b\\" \\$c.json"', '/tmp/a "b" $c.json'],
    ['"/tmp/back\\slash.json"', '/tmp/back\\slash.json'], // in double quotes, \ escapes only $ ` " \
    ["'/tmp/a b'/c.json", '/tmp/a b/c.json'],
    ['/plain/path.json', '/plain/path.json'],
    ['  /padded.json  ', '/padded.json'],
    ['file:///home/me/Downloads/acme%20key.json', '/home/me/Downloads/acme key.json'],
  ])('%s -> %s', (typed, expected) => {
    expect(unquoteShellWord(typed)).toBe(expected);
  });

  it('unbalanced quotes are taken as part of the name', () => {
    expect(unquoteShellWord("/tmp/it's.json")).toBe("/tmp/it's.json");
    expect(unquoteShellWord('/tmp/"odd.json')).toBe('/tmp/"odd.json');
  });
});

describe('expandHome and typedPath', () => {
  it('expands ~ and ~/ only; relative paths become absolute', () => {
    expect(expandHome('~', '/home/me')).toBe('/home/me');
    expect(expandHome('~/k.json', '/home/me')).toBe('/home/me/k.json');
    expect(expandHome('~other/k.json', '/home/me')).toBe(path.resolve('~other/k.json'));
    expect(expandHome('k.json', '/home/me')).toBe(path.resolve('k.json'));
  });

  it('unquotes, then expands', () => {
    expect(typedPath("'~/Downloads/acme key.json'", '/home/me')).toBe('/home/me/Downloads/acme key.json');
    expect(typedPath('~/Downloads/acme\\ key.json', '/home/me')).toBe('/home/me/Downloads/acme key.json');
  });
});
