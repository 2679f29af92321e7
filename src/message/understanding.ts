/**
 * What the runtime endpoints (`/message`, `bulk_classify`) know of a workspace: its compiled
 * dialog (which holds the entity tables) and its latest model, cached per process and revalidated
 * on every call with one indexed query. Both endpoints load through here, so they classify with
 * the same model and recognise entities with the same tables.
 */
import type pg from 'pg';
import { z } from 'zod';
import { classifyInput, compileDialog, type CompiledDialog, type Nlu, type RuntimeEntity, type RuntimeIntent, type Workspace } from '../runtime/index.ts';
import { withSnapshot } from '../store/index.ts';
import { deserializeModel, readableAlgorithms, type IntentModel } from '../training/index.ts';
import { dialogElements, modelIsReadable, notFound, trainingWanted, workspaceKey } from '../workspaces/index.ts';
import { Lru } from './lru.ts';
import { SingleFlight } from './single-flight.ts';

/** `input.text` as /message takes it (spec §6.1); bulk_classify takes the same texts. */
export const inputText = z.string().max(2048, 'must be at most 2048 characters')
  .refine((s) => !/[\r\n\t]/.test(s), 'must not contain carriage return, newline or tab characters');

/**
 * What a runtime request needs to know of the workspace: a named (prepared) statement, since
 * every request runs it and each connection then plans it once.
 * `dialog_key` changes with every committed write to the workspaces row, which every change to
 * the workspace or its elements makes: xmin is the writing transaction, so two edits differ even
 * when their `updated` (the transaction's start time) agree. `updated` is there, exact to the
 * microsecond, only against xmin wraparound.
 * `stale`: the model is not current and training the current data has not already failed.
 * `model_key` is null unless this release can read the model: one of another algorithm (after an
 * upgrade, until retrained; a newer release's, during a rolling upgrade) leaves the workspace
 * answering as one not yet trained, where every /message failed with a 500 until retrain-all had
 * reached it; so does one too large to read (see modelIsReadable), which was the end of the process.
 */
const DIALOG_KEY = `w.xmin::text || ' ' || w.updated::text`;
const META = `
  select w.id, w.language, ${DIALOG_KEY} as dialog_key,
         case when m.algorithm_version = any($4::text[]) and ${modelIsReadable('m')} then m.trained_version || ':' || extract(epoch from m.trained_at) end as model_key,
         ${trainingWanted('$3')} as stale
    from workspaces w left join models m on m.workspace_id = w.id left join training_failures f on f.workspace_id = w.id
   where w.id = $1::uuid and w.instance_id = $2`;
const DEFAULT_MODEL_CACHE_BYTES = 1024 ** 3;

interface Meta { id: string; language: string; dialog_key: string; model_key: string | null; stale: boolean }
interface DialogEntry { key: string; dialog: CompiledDialog }
interface ModelEntry { key: string; model: IntentModel }

export interface UnderstandingOptions {
  algorithmVersion: string;
  /** Workspaces whose compiled dialog and model stay cached (least recently used go first). */
  cacheSize?: number;
  /** The cached models' total size (ASTORE_MODEL_CACHE_BYTES; default 1 GiB); the least recently used go first. */
  modelCacheBytes?: number;
  /**
   * Called when a workspace without a current model is messaged or classified (AUTO_RETRAIN's
   * "open the skill"), unless training its current data already failed.
   */
  stale?(workspaceId: string): void;
}

/** A loaded workspace. `model` is undefined until its first training has finished. */
export class Understood {
  /** The injected classifier `respond` takes: no model, no intents. */
  readonly nlu: Nlu;

  constructor(readonly id: string, readonly language: string, readonly dialog: CompiledDialog, readonly model: IntentModel | undefined) {
    this.nlu = { classify: (text) => (model ? model.classify(text) : []) };
  }

  /** The intents and entities a /message turn without caller-supplied ones finds in `text`, at `now`. */
  interpret(text: string, now: Date): { intents: RuntimeIntent[]; entities: RuntimeEntity[] } {
    return { intents: classifyInput(this.nlu, text), entities: this.dialog.entities.extract(text, { now }) };
  }
}

export class Understanding {
  readonly #dialogs: Lru<DialogEntry>;
  readonly #models: Lru<ModelEntry>;
  readonly #dialogLoads = new SingleFlight<DialogEntry>();
  readonly #modelLoads = new SingleFlight<IntentModel | undefined>();
  readonly #opts: UnderstandingOptions;
  /** The algorithm names whose models this release loads. */
  readonly #readable: string[];

  constructor(opts: UnderstandingOptions) {
    this.#opts = opts;
    this.#readable = readableAlgorithms(opts.algorithmVersion);
    this.#dialogs = new Lru(opts.cacheSize ?? 256);
    this.#models = new Lru(opts.cacheSize ?? 256, opts.modelCacheBytes ?? DEFAULT_MODEL_CACHE_BYTES, (e) => e.model.byteLength);
  }

  /** The workspace `workspaceId` of the instance, or 404; a stale one is reported to `stale`. */
  async load(pool: pg.Pool, instanceId: string, workspaceId: string): Promise<Understood> {
    const meta = await this.#meta(pool, instanceId, workspaceId);
    const [dialog, model] = await Promise.all([this.#dialog(pool, meta), this.#model(pool, meta)]);
    if (meta.stale) this.#opts.stale?.(meta.id);
    return new Understood(meta.id, meta.language, dialog, model);
  }

  async #meta(pool: pg.Pool, instanceId: string, workspaceId: string): Promise<Meta> {
    const r = await pool.query<Meta>({ name: 'astore.runtime-meta', text: META, values: [workspaceKey(workspaceId), instanceId, this.#opts.algorithmVersion, this.#readable] });
    const row = r.rows[0];
    if (!row) throw notFound();
    return row;
  }

  async #dialog(pool: pg.Pool, meta: Meta): Promise<CompiledDialog> {
    const hit = this.#dialogs.get(meta.id);
    if (hit && hit.key === meta.dialog_key) return hit.dialog;
    const entry = await this.#dialogLoads.run(`${meta.id} ${meta.dialog_key}`, async () => {
      // The elements and their dialog key from one snapshot: read piecemeal, an update or delete
      // committing in between answered the turn from half a workspace (no nodes, no entities).
      const { key, elements } = await withSnapshot(pool, async (db) => {
        const r = await db.query<{ dialog_key: string }>(`select ${DIALOG_KEY} as dialog_key from workspaces w where w.id = $1`, [meta.id]);
        if (!r.rows[0]) throw notFound();
        return { key: r.rows[0].dialog_key, elements: await dialogElements(db, meta.id, { audit: false, stable: false }) };
      });
      const loaded = { key, dialog: compileDialog({ language: meta.language, ...elements } as Workspace) };
      this.#dialogs.set(meta.id, loaded);
      return loaded;
    });
    return entry.dialog;
  }

  async #model(pool: pg.Pool, meta: Meta): Promise<IntentModel | undefined> {
    const key = meta.model_key;
    if (!key) return undefined;
    const hit = this.#models.get(meta.id);
    if (hit && hit.key === key) return hit.model;
    return this.#modelLoads.run(`${meta.id} ${key}`, async () => {
      // Checked again: the model may have been replaced since the meta query (by a newer release's, or a bigger one).
      const r = await pool.query<{ model: Buffer }>(`select model from models where workspace_id = $1 and algorithm_version = any($2::text[]) and ${modelIsReadable('models')}`,
        [meta.id, this.#readable]);
      if (!r.rows[0]) return undefined;
      const model = deserializeModel(r.rows[0].model);
      this.#models.set(meta.id, { key, model });
      return model;
    });
  }
}
