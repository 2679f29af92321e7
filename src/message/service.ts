/**
 * The v1 `/message` endpoint: the workspace's compiled dialog and its latest model, cached per
 * process and revalidated on every call with one indexed query, so the hot path is a cache
 * lookup, a classification and a dialog turn.
 */
import { z } from 'zod';
import type pg from 'pg';
import type { Router, V1Handler } from '../api/index.ts';
import { compileDialog, respond, type CompiledDialog, type MessageRequest, type Workspace } from '../runtime/index.ts';
import { deserializeModel, type IntentModel } from '../training/index.ts';
import { exportElements, notFound, parseBody, trainingWanted } from '../workspaces/index.ts';
import { Lru } from './lru.ts';

/**
 * `dialog_key` changes with every committed write to the workspaces row, which every change to
 * the workspace or its elements makes: xmin is the writing transaction, so two edits differ even
 * when their `updated` (the transaction's start time) agree. `updated` is there, exact to the
 * microsecond, only against xmin wraparound.
 * `stale`: the model is not current and training the current data has not already failed.
 */
interface Meta { id: string; language: string; dialog_key: string; model_key: string | null; stale: boolean }
interface DialogEntry { key: string; dialog: CompiledDialog }
interface ModelEntry { key: string; model: IntentModel }


const messageBody = z.object({
  input: z.object({
    text: z.string().max(2048, 'must be at most 2048 characters').refine((s) => !/[\r\n\t]/.test(s), 'must not contain carriage return, newline or tab characters').optional(),
  }).loose().optional(),
  intents: z.array(z.object({ intent: z.string(), confidence: z.number().optional() }).loose()).optional(),
  entities: z.array(z.object({ entity: z.string(), value: z.string() }).loose()).optional(),
  alternate_intents: z.boolean().optional(),
  context: z.record(z.string(), z.unknown()).optional(),
  output: z.record(z.string(), z.unknown()).optional(),
  user_id: z.string().min(1).max(256).optional(),
});

export interface MessageServiceOptions {
  /**
   * Called when a workspace without a current model is messaged (AUTO_RETRAIN's "open the skill"),
   * unless training its current data already failed.
   */
  stale?(workspaceId: string): void;
  algorithmVersion: string;
  /** Workspaces whose compiled dialog and model stay cached (least recently used go first). */
  cacheSize?: number;
}

export class MessageService {
  readonly #dialogs: Lru<DialogEntry>;
  readonly #models: Lru<ModelEntry>;
  readonly #opts: MessageServiceOptions;

  constructor(opts: MessageServiceOptions) {
    this.#opts = opts;
    this.#dialogs = new Lru(opts.cacheSize ?? 256);
    this.#models = new Lru(opts.cacheSize ?? 256);
  }

  async #meta(pool: pg.Pool, instanceId: string, workspaceId: string): Promise<Meta> {
    const r = await pool.query<Meta>(`
      select w.id, w.language, w.xmin::text || ' ' || w.updated::text as dialog_key, m.trained_version || ':' || extract(epoch from m.trained_at) as model_key,
             ${trainingWanted('$3')} as stale
        from workspaces w left join models m on m.workspace_id = w.id left join training_failures f on f.workspace_id = w.id
       where w.id::text = $1 and w.instance_id = $2`, [workspaceId, instanceId, this.#opts.algorithmVersion]);
    const row = r.rows[0];
    if (!row) throw notFound();
    return row;
  }

  async #dialog(pool: pg.Pool, meta: Meta): Promise<CompiledDialog> {
    const hit = this.#dialogs.get(meta.id);
    if (hit && hit.key === meta.dialog_key) return hit.dialog;
    const elements = await exportElements(pool, meta.id, { audit: false, stable: false });
    const dialog = compileDialog({ language: meta.language, ...elements } as Workspace);
    this.#dialogs.set(meta.id, { key: meta.dialog_key, dialog });
    return dialog;
  }

  async #model(pool: pg.Pool, meta: Meta): Promise<IntentModel | undefined> {
    if (!meta.model_key) return undefined;
    const hit = this.#models.get(meta.id);
    if (hit && hit.key === meta.model_key) return hit.model;
    const r = await pool.query<{ model: Buffer }>('select model from models where workspace_id = $1', [meta.id]);
    if (!r.rows[0]) return undefined;
    const model = deserializeModel(r.rows[0].model);
    this.#models.set(meta.id, { key: meta.model_key, model });
    return model;
  }

  readonly handler: V1Handler = async (c) => {
    const body = parseBody(messageBody, c.body) as MessageRequest;
    const meta = await this.#meta(c.pool, c.instanceId, c.params.ws!);
    const [dialog, model] = await Promise.all([this.#dialog(c.pool, meta), this.#model(c.pool, meta)]);
    if (meta.stale) this.#opts.stale?.(meta.id);
    const response = respond(dialog, body, { classify: (text) => (model ? model.classify(text) : []) }, {
      version: c.version, nodesVisitedDetails: c.query.nodes_visited_details === 'true',
    });
    if (!model) {
      response.output.log_messages.push({ level: 'warn', msg: 'The workspace has no trained model yet; intents are not recognized until training completes.', code: 'workspace_not_trained' });
    }
    return { body: response };
  };

  register(router: Router<V1Handler>): void {
    router.add('POST', 'v1/workspaces/:ws/message', this.handler);
  }
}
