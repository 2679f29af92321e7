/** Reading a workspace's training data, and storing what was trained from it. */
import type pg from 'pg';
import { algorithmGeneration } from '../../workspaces/index.ts';
import type { TrainingData } from '../model/index.ts';

type Db = Pick<pg.ClientBase, 'query'>;

export interface Snapshot { data: TrainingData; version: string }

/**
 * The training data and its training_version from one snapshot (REPEATABLE READ), so the
 * stored model is marked current for exactly the data it was trained on.
 */
export async function readTrainingData(client: pg.PoolClient, workspaceId: string): Promise<Snapshot | undefined> {
  await client.query('begin isolation level repeatable read read only');
  try {
    const w = await client.query<{ language: string; training_version: string }>(
      'select language, training_version from workspaces where id = $1', [workspaceId]);
    const ws = w.rows[0];
    if (!ws) return undefined;
    const ex = await client.query<{ intent: string; text: string | null }>(`select i.intent, e.text from intents i
      left join examples e on e.intent_id = i.id where i.workspace_id = $1 order by i.id, e.id`, [workspaceId]);
    const cx = await client.query<{ text: string }>('select text from counterexamples where workspace_id = $1 order by id', [workspaceId]);
    const intents = new Map<string, Array<{ text: string }>>();
    for (const row of ex.rows) {
      let list = intents.get(row.intent);
      if (!list) intents.set(row.intent, (list = []));
      if (row.text !== null) list.push({ text: row.text });
    }
    return {
      version: ws.training_version,
      data: {
        language: ws.language,
        intents: [...intents].map(([intent, examples]) => ({ intent, examples })),
        counterexamples: cx.rows.map((r) => ({ text: r.text })),
      },
    };
  } finally {
    await client.query('commit');
  }
}

export interface TrainedModel { model: Buffer; dataHash: string; algorithmVersion: string; trainMs: number }

/**
 * Stores a model unless one trained from newer data is already there (a slower, older job
 * finishing late), or one trained from the same data by a newer algorithm generation (a newer
 * release's pods, during a rolling upgrade: overwriting it would have them train it again).
 */
export async function saveModel(db: Db, workspaceId: string, version: string, m: TrainedModel): Promise<void> {
  await db.query(`
    insert into models (workspace_id, data_hash, trained_version, algorithm_version, model, trained_at, train_ms)
    values ($1, $2, $3, $4, $5, now(), $6)
    on conflict (workspace_id) do update set data_hash = excluded.data_hash, trained_version = excluded.trained_version,
      algorithm_version = excluded.algorithm_version, model = excluded.model, trained_at = excluded.trained_at, train_ms = excluded.train_ms
      where models.trained_version < excluded.trained_version
         or (models.trained_version = excluded.trained_version
             and ${algorithmGeneration('models.algorithm_version')} <= ${algorithmGeneration('excluded.algorithm_version')})`,
  [workspaceId, m.dataHash, version, m.algorithmVersion, m.model, m.trainMs]);
  await db.query('delete from training_failures where workspace_id = $1 and failed_version <= $2', [workspaceId, version]);
}

/** Whether the workspace's stored model is the one trained from `version`'s data. */
export async function hasModel(db: Db, workspaceId: string, version: string, dataHash: string): Promise<boolean> {
  const r = await db.query('select 1 from models where workspace_id = $1 and trained_version = $2 and data_hash = $3', [workspaceId, version, dataHash]);
  return r.rowCount === 1;
}

/**
 * Records that training `version` failed for good. Without a version (the attempt failed before
 * its snapshot was read) the workspace's current one is failed, as for a worker that died: the
 * job is gone, and without a failure the workspace would say Training with nothing training it.
 * A workspace deleted meanwhile records nothing.
 */
export async function saveFailure(db: Db, workspaceId: string, version: string | undefined, message: string): Promise<void> {
  await db.query(`insert into training_failures (workspace_id, failed_version, message)
    select id, coalesce($2::bigint, training_version), $3 from workspaces where id = $1
    on conflict (workspace_id) do update set failed_version = excluded.failed_version, message = excluded.message, failed_at = now()`,
  [workspaceId, version ?? null, message]);
}
