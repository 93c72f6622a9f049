/** `list`, `status` and `permissions`. */
import { UsageError } from '../../errors.js';
import { listJournals, replay } from '../../journal/journal.js';
import { startSession } from '../session.js';
import { printJson, say } from '../render.js';

export async function otherCommand(name: string, opts: Record<string, unknown>): Promise<number> {
  if (name === 'list') return listCommand(opts);
  throw new UsageError(`'${name}' is not available in this version.`, 'NotImplemented');
}

function listCommand(opts: Record<string, unknown>): number {
  const s = startSession(opts);
  try {
    const { journals, warnings } = listJournals(s.stateDir);
    for (const w of warnings) s.o.err.write(`warning: ${w}\n`);
    const rows = journals.map((j) => ({
      deploymentId: j.header.deploymentId,
      accountId: j.header.accountId,
      homeRegion: j.header.homeRegion,
      createdAt: j.header.at,
      resources: replay(j.records).size,
      journal: j.path,
    }));
    if (s.o.json) {
      printJson(s.o, { schemaVersion: 1, command: 'list', status: 'ok', deployments: rows });
    } else if (rows.length === 0) {
      say(s.o, `No deployments known in ${s.stateDir}.`);
    } else {
      for (const r of rows) say(s.o, `${r.deploymentId}  account ${r.accountId}  home ${r.homeRegion}  ${r.resources} resources  ${r.journal}`);
    }
    return 0;
  } finally {
    s.done();
  }
}
