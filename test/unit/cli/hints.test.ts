/** The command lines the tool prints for the person to run next (issue 10: each works as printed). */
import { describe, expect, it } from 'vitest';
import { commandLine, invocation, shellQuote } from '../../../src/cli/hints.js';

/** What `sh -c` makes of a line: its words (enough of POSIX quoting for what shellQuote produces). */
function words(line: string): string[] {
  const out: string[] = [];
  let cur: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (ch === ' ') {
      if (cur !== undefined) out.push(cur);
      cur = undefined;
    } else if (ch === "'") {
      const end = line.indexOf("'", i + 1);
      cur = (cur ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (ch === '\\') {
      cur = (cur ?? '') + line[++i];
    } else {
      cur = (cur ?? '') + ch;
    }
  }
  if (cur !== undefined) out.push(cur);
  return out;
}

describe('shellQuote', () => {
  it('leaves plain words alone and quotes the rest so a shell gives them back unchanged', () => {
    expect(shellQuote('/home/ann/.forticnapp-eks-audit')).toBe('/home/ann/.forticnapp-eks-audit');
    expect(shellQuote('eu-central-1=prod,stage')).toBe('eu-central-1=prod,stage');
    const tricky = ["/home/ann/Downloads/acme key.json", "it's", '$HOME', 'a;b', 'x*', '', '~/k.json', 'team=a b'];
    expect(words(commandLine(tricky))).toEqual(tricky);
    expect(shellQuote('~/k.json')).toBe("'~/k.json'"); // the shell must not expand it to another home
  });
});

describe('invocation', () => {
  const bin = '/work/clone/bin/forticnapp-eks-audit.js';

  it('node <absolute path> from a clone, a relative path made absolute', () => {
    expect(invocation(['/usr/bin/node', bin], { PATH: '/usr/bin' })).toEqual(['node', bin]);
    expect(invocation(['/usr/bin/node', 'bin/forticnapp-eks-audit.js'], { PATH: '/usr/bin' })).toEqual(['node', `${process.cwd()}/bin/forticnapp-eks-audit.js`]);
  });

  it('npx forticnapp-eks-audit when npx runs it (its cache, or the bin link npm exec puts on PATH)', () => {
    expect(invocation(['/usr/bin/node', '/home/ann/.npm/_npx/1a2b/node_modules/.bin/forticnapp-eks-audit'], {})).toEqual(['npx', 'forticnapp-eks-audit']);
    const link = '/work/app/node_modules/.bin/forticnapp-eks-audit';
    expect(invocation(['/usr/bin/node', link], { npm_command: 'exec', PATH: `/work/app/node_modules/.bin:/usr/bin` })).toEqual(['npx', 'forticnapp-eks-audit']);
  });

  it('node <path> when started as node <path> from a process npm exec started (npm_command=exec is inherited, e.g. by tests run with npx)', () => {
    expect(invocation(['/usr/bin/node', bin], { npm_command: 'exec', PATH: '/usr/bin' })).toEqual(['node', bin]);
  });

  it('the bare name when it runs from an install on PATH', () => {
    expect(invocation(['/usr/bin/node', '/usr/local/bin/forticnapp-eks-audit'], { PATH: '/usr/local/bin:/usr/bin' })).toEqual(['forticnapp-eks-audit']);
    expect(invocation(['/usr/bin/node', '/opt/x/forticnapp-eks-audit'], { PATH: '/usr/local/bin:/usr/bin' })).toEqual(['node', '/opt/x/forticnapp-eks-audit']);
  });
});
