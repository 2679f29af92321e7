/**
 * Rows → v1 JSON. Null-valued properties are left out (API versions ≥ 2018-02-16), audit
 * timestamps appear only when asked for, and `sort=stable` orders every element by its id.
 */
export interface Shape { audit: boolean; stable: boolean }

export type Json = Record<string, unknown>;

export function compact(obj: Json): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(obj)) if (v !== null && v !== undefined) out[k] = v;
  return out;
}

export function audit(obj: Json, row: { created: Date; updated: Date }, shape: Shape): Json {
  if (!shape.audit) return obj;
  return { ...obj, created: row.created.toISOString(), updated: row.updated.toISOString() };
}

export function stableSort<T>(items: T[], key: (x: T) => string, shape: Shape): T[] {
  if (!shape.stable) return items;
  return [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

export interface IntentRow { id: string; intent: string; description: string | null; created: Date; updated: Date }
export interface ExampleRow { intent_id: string; text: string; mentions: unknown; created: Date; updated: Date }
export interface EntityRow { id: string; entity: string; description: string | null; fuzzy_match: boolean | null; metadata: unknown; extra?: Json | null; created: Date; updated: Date }
export interface ValueRow { id: string; entity_id: string; value: string; type: string; metadata: unknown; patterns: string[] | null; created: Date; updated: Date }
export interface SynonymRow { value_id: string; synonym: string; created: Date; updated: Date }
export interface NodeRow { dialog_node: string; node: Json; created: Date; updated: Date }
export interface TextRow { text: string; created: Date; updated: Date }

export const exampleJson = (r: ExampleRow, s: Shape): Json => audit(compact({ text: r.text, mentions: r.mentions }), r, s);
/** One mention of an entity, with the audit times of the example it is part of. */
export interface MentionRow { text: string; intent: string; location: unknown; created: Date; updated: Date }
export const mentionJson = (r: MentionRow, s: Shape): Json => audit({ text: r.text, intent: r.intent, location: r.location }, r, s);
export const counterexampleJson = (r: TextRow, s: Shape): Json => audit({ text: r.text }, r, s);
export const synonymJson = (r: SynonymRow, s: Shape): Json => audit({ synonym: r.synonym }, r, s);

export function intentJson(r: IntentRow, examples: ExampleRow[] | undefined, s: Shape): Json {
  const base = compact({ intent: r.intent, description: r.description });
  if (examples) base.examples = stableSort(examples, (e) => e.text, s).map((e) => exampleJson(e, s));
  return audit(base, r, s);
}

export function valueJson(r: ValueRow, synonyms: SynonymRow[] | undefined, s: Shape): Json {
  const base = compact({ value: r.value, type: r.type, metadata: r.metadata });
  if (r.type === 'patterns') base.patterns = r.patterns ?? [];
  else if (synonyms) base.synonyms = stableSort(synonyms, (x) => x.synonym, s).map((x) => x.synonym);
  return audit(base, r, s);
}

export function entityJson(r: EntityRow, values: Json[] | undefined, s: Shape): Json {
  const base = compact({ ...(r.extra ?? {}), entity: r.entity, description: r.description, metadata: r.metadata, fuzzy_match: r.fuzzy_match });
  if (values) base.values = values;
  return audit(base, r, s);
}

export function nodeJson(r: NodeRow, s: Shape): Json {
  return audit(compact({ ...r.node, dialog_node: r.dialog_node }), r, s);
}

/** Groups child rows by a parent key, keeping their order. */
export function groupBy<T>(rows: T[], key: (r: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const r of rows) {
    const k = key(r);
    const list = m.get(k);
    if (list) list.push(r); else m.set(k, [r]);
  }
  return m;
}
