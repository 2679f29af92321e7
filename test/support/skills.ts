/**
 * Loading skill exports for tests, and the normal form two exports are compared in: the fields
 * a store may legitimately add or drop (ids, status, audit timestamps, legacy null "absent"
 * values, the default value `type`) are normalised away; everything else must match exactly.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sharedDir } from './pg.ts';

export type Skill = Record<string, any>;

export function ownSkills(): Array<{ name: string; skill: Skill }> {
  const dir = join(import.meta.dirname, '..', 'fixtures', 'skills');
  return readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => ({ name: f, skill: JSON.parse(readFileSync(join(dir, f), 'utf8')) }));
}

export function sharedSkills(): Array<{ name: string; skill: Skill }> | undefined {
  const shared = sharedDir();
  if (!shared) return undefined;
  const dir = join(shared, 'fixtures', 'workspaces');
  return readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => ({ name: f, skill: JSON.parse(readFileSync(join(dir, f), 'utf8')) }));
}

function clean(o: Record<string, any>, drop: string[] = []): Record<string, any> {
  const out: Record<string, any> = {};
  for (const [k, v] of Object.entries(o)) if (v !== null && v !== undefined && !drop.includes(k)) out[k] = v;
  return out;
}

const AUDIT = ['created', 'updated'];

export function normaliseSkill(s: Skill): Skill {
  const ws = clean(s, [...AUDIT, 'workspace_id', 'status', 'status_errors', 'skill_id', 'learningOptOut', 'counts', 'status_description',
    'intents', 'entities', 'dialog_nodes', 'counterexamples']);
  ws.learning_opt_out = s.learning_opt_out ?? false;
  return {
    ...ws,
    intents: (s.intents ?? []).map((i: Skill) => ({
      ...clean(i, [...AUDIT, 'examples']),
      examples: (i.examples ?? []).map((e: Skill) => clean(e, AUDIT)),
    })),
    entities: (s.entities ?? []).map((e: Skill) => ({
      ...clean(e, [...AUDIT, 'values']),
      values: String(e.entity).startsWith('sys-') ? [] : (e.values ?? []).map((v: Skill) => {
        const type = v.type ?? 'synonyms';
        const base = { ...clean(v, [...AUDIT, 'synonyms', 'patterns']), type };
        return type === 'patterns' ? { ...base, patterns: [...(v.patterns ?? [])] } : { ...base, synonyms: [...(v.synonyms ?? [])] };
      }),
    })),
    dialog_nodes: (s.dialog_nodes ?? []).map((n: Skill) => clean(n, AUDIT)),
    counterexamples: (s.counterexamples ?? []).map((c: Skill) => clean(c, AUDIT)),
  };
}
