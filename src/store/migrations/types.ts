import type pg from 'pg';

export interface MigrationContext {
  /** Encrypts credential values inside a webhooks array (values already encrypted are kept). */
  encryptWebhooks(webhooks: unknown): unknown;
}

export interface Migration {
  /** Position in the sequence; never reused, never renumbered. */
  id: number;
  /** The store release that introduced this migration (the schema release once applied). */
  release: string;
  name: string;
  /** SQL run with search_path set to the target schema, or code for data transformations. */
  up: string | ((client: pg.ClientBase, ctx: MigrationContext) => Promise<void>);
}
