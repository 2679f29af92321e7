import type { Migration } from './types.ts';

/**
 * 1.2.0: credentials at rest are encrypted. Until 1.1.x webhook header values were stored in
 * plain text; this migration encrypts every one of them with the store's key, so an archive from
 * an earlier release is upgraded on restore with the target's key.
 */
export const m003Secrets: Migration = {
  id: 3,
  release: '1.2.0',
  name: 'encrypted-secrets',
  async up(client, ctx) {
    const rows = await client.query<{ id: string; webhooks: unknown }>(
      'select id, webhooks from workspaces where webhooks is not null for update');
    for (const row of rows.rows) {
      await client.query('update workspaces set webhooks = $2 where id = $1',
        [row.id, JSON.stringify(ctx.encryptWebhooks(row.webhooks))]);
    }
  },
};
