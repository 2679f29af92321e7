/** Shared pieces of the restore tests: archives made by stock pg_dump, config files, table checksums. */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import AssistantV1 from 'ibm-watson/assistant/v1.js';
import pg from 'pg';
import { stringify } from 'yaml';
import type { Skill } from '../support/skills.ts';

export { sdkClient as sdk } from '../support/api.ts';

export function createParams(skill: Skill): AssistantV1.CreateWorkspaceParams {
  return {
    name: skill.name, description: skill.description, language: skill.language, metadata: skill.metadata,
    learningOptOut: skill.learning_opt_out, systemSettings: skill.system_settings, webhooks: skill.webhooks,
    intents: skill.intents, entities: skill.entities, dialogNodes: skill.dialog_nodes, counterexamples: skill.counterexamples,
  };
}

export function pgDump(url: string, file: string): void {
  execFileSync('/usr/bin/pg_dump', ['-Fc', '-f', file, '-d', url], { stdio: ['ignore', 'ignore', 'inherit'] });
}

export function writeRc(dir: string, apiUrl: string, tokens: string[]): string {
  const u = new URL(apiUrl);
  const file = join(dir, 'resourceController.yaml');
  writeFileSync(file, stringify({ accessTokens: tokens, host: u.hostname, port: Number(u.port) }));
  return file;
}

export function writeMapping(dir: string, mapping: Record<string, string>, name = 'mapping.yaml'): string {
  const file = join(dir, name);
  writeFileSync(file, stringify({ 'instance-mappings': mapping }));
  return file;
}

/** One md5 per table of the store schema (and the list of schemas), to assert "untouched". */
export async function checksum(url: string): Promise<Record<string, string>> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const tables = await c.query<{ t: string }>(`select tablename as t from pg_tables where schemaname = 'astore' order by 1`);
    const out: Record<string, string> = {};
    for (const { t } of tables.rows) {
      const r = await c.query<{ h: string | null; n: string }>(
        `select md5(string_agg(x::text, E'\\n' order by x::text)) as h, count(*) as n from astore."${t}" x`);
      out[t] = `${r.rows[0]!.n}:${r.rows[0]!.h}`;
    }
    return out;
  } finally {
    await c.end();
  }
}

/** Every constraint, index and table storage option of the store schema: to assert a restore rebuilt them all and left no load-time settings. */
export async function schemaShape(url: string): Promise<string[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query<{ d: string }>(`
      select format('%s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid)) as d from pg_constraint where connamespace = 'astore'::regnamespace
      union all select indexdef from pg_indexes where schemaname = 'astore'
      union all select format('%s options %s', c.oid::regclass, c.reloptions) from pg_class c
        where c.relnamespace = 'astore'::regnamespace and c.reloptions is not null order by 1`);
    return r.rows.map((x) => x.d);
  } finally {
    await c.end();
  }
}
