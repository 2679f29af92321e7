/**
 * The resource controller: users, the service instances they own, and bearer tokens. A token
 * reaches every instance its user owns and nothing else.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type pg from 'pg';
import { AppError } from '../errors/index.ts';

export interface Instance { id: string; name: string; owner: string; crn: string; created: Date; workspaces?: number }
export interface TokenInfo { id: string; userId: string; user: string }

type Queryable = Pick<pg.Pool, 'query'>;

/** Ids are UUIDs; anything else would fail PostgreSQL's uuid cast, so it is turned away first. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

export function instanceCrn(id: string): string {
  return `crn:v1:astore:private:conversation:local:a/astore:${id}::`;
}

async function ensureUser(db: Queryable, name: string): Promise<string> {
  if (!/^[\p{L}\p{N}_.@-]{1,128}$/u.test(name)) {
    throw new AppError('USER_NAME_INVALID', `user name "${name}" is invalid`, {
      hint: 'use 1-128 letters, digits, _ . @ or -', exitCode: 2, status: 400,
    });
  }
  const r = await db.query<{ id: string }>(
    `insert into users (id, name) values ($1, $2) on conflict (name) do update set name = excluded.name returning id`,
    [randomUUID(), name]);
  return r.rows[0]!.id;
}

export async function createInstance(db: Queryable, name: string, owner: string): Promise<Instance> {
  // Control characters would be stored and printed raw by `instances list` and the resource controller.
  const why = !name.trim() ? 'is blank' : name.length > 256 ? `is ${name.length} characters long` : /\p{Cc}/u.test(name) ? 'holds a control character' : undefined;
  if (why) {
    throw new AppError('INSTANCE_NAME_INVALID', `the instance name ${JSON.stringify(name)} ${why}`, {
      hint: 'give 1-256 characters, not all spaces, without control characters (tabs, newlines and the like)', exitCode: 2, status: 400,
    });
  }
  const ownerId = await ensureUser(db, owner);
  const id = randomUUID();
  const r = await db.query<{ created: Date }>(
    'insert into instances (id, name, owner_id, crn) values ($1, $2, $3, $4) returning created',
    [id, name, ownerId, instanceCrn(id)]);
  return { id, name, owner, crn: instanceCrn(id), created: r.rows[0]!.created };
}

export async function listInstances(db: Queryable, filter: { userId?: string } = {}): Promise<Instance[]> {
  const r = await db.query<{ id: string; name: string; owner: string; crn: string; created: Date; workspaces: string }>(
    `select i.id, i.name, u.name as owner, i.crn, i.created,
            (select count(*) from workspaces w where w.instance_id = i.id) as workspaces
       from instances i join users u on u.id = i.owner_id
      where $1::uuid is null or i.owner_id = $1
      order by i.created, i.id`, [filter.userId ?? null]);
  return r.rows.map((row) => ({ ...row, workspaces: Number(row.workspaces) }));
}

export interface DeletedInstance { id: string; name: string; owner: string; workspaces: number }

/**
 * Deletes an instance; the workspaces it holds (with their models, logs and queued training) go
 * too, but only when `withWorkspaces` says so: otherwise an instance that holds any is refused,
 * so a mistyped id never takes skills along. The instance row is locked before counting: a
 * workspace being created meanwhile waits on that lock, so the count checked is the count deleted.
 */
export async function deleteInstance(pool: pg.Pool, id: string, options: { withWorkspaces: boolean }): Promise<DeletedInstance> {
  if (!UUID.test(id)) {
    throw new AppError('INSTANCE_NOT_FOUND', `"${id}" is not an instance id`, { hint: 'instance ids are the UUIDs astore instances list shows', exitCode: 2 });
  }
  const client = await pool.connect();
  try {
    await client.query('begin');
    const r = await client.query<{ name: string; owner: string; workspaces: string }>(
      `select i.name, u.name as owner, (select count(*) from workspaces w where w.instance_id = i.id) as workspaces
         from instances i join users u on u.id = i.owner_id where i.id = $1 for update of i`, [id]);
    const row = r.rows[0];
    if (!row) throw new AppError('INSTANCE_NOT_FOUND', `no instance with id ${id}`, { hint: 'astore instances list shows the instances', exitCode: 2 });
    const workspaces = Number(row.workspaces);
    if (workspaces > 0 && !options.withWorkspaces) {
      throw new AppError('INSTANCE_NOT_EMPTY', `instance ${id} (${row.name}) holds ${workspaces} workspace(s); nothing was deleted`, {
        hint: 'back them up first (astore backup -o FILE), then add --delete-workspaces to delete them with the instance', exitCode: 2,
        details: { workspaces },
      });
    }
    await client.query('delete from instances where id = $1', [id]);
    await client.query('commit');
    return { id, name: row.name, owner: row.owner, workspaces };
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** Creates a token for the user (created if new). The token is returned once and stored hashed. */
export async function createToken(db: Queryable, user: string): Promise<{ id: string; token: string; user: string }> {
  const userId = await ensureUser(db, user);
  const token = 'ast_' + randomBytes(32).toString('base64url');
  const id = randomUUID();
  await db.query('insert into tokens (id, user_id, token_hash) values ($1, $2, $3)', [id, userId, hashToken(token)]);
  return { id, token, user };
}

export interface TokenListing { id: string; user: string; created: Date; revoked: Date | null }

/**
 * The tokens (never their values, which are not stored), newest first: how an operator finds the
 * id to revoke when the one printed at creation is lost. Revoked ones only with `revoked: true`.
 */
export async function listTokens(db: Queryable, filter: { user?: string | undefined; revoked?: boolean } = {}): Promise<TokenListing[]> {
  const r = await db.query<{ id: string; user: string; created: Date; revoked_at: Date | null }>(
    `select t.id, u.name as user, t.created, t.revoked_at from tokens t join users u on u.id = t.user_id
      where ($1::text is null or u.name = $1) and ($2 or t.revoked_at is null)
      order by t.created desc, t.id`, [filter.user ?? null, filter.revoked ?? false]);
  return r.rows.map((x) => ({ id: x.id, user: x.user, created: x.created, revoked: x.revoked_at }));
}

/** The id of the active token whose value is `token` (a leaked token, found without knowing its id). */
export async function tokenIdOf(db: Queryable, token: string): Promise<string> {
  const found = await authenticate(db, token);
  if (!found) throw new AppError('TOKEN_NOT_FOUND', 'no active token has that value', { hint: 'it may be revoked already; astore tokens list shows the active ones', exitCode: 2 });
  return found.id;
}

export async function revokeToken(db: Queryable, tokenId: string): Promise<void> {
  if (!UUID.test(tokenId)) {
    throw new AppError('TOKEN_NOT_FOUND', `"${tokenId}" is not a token id`, { hint: 'token ids are the UUIDs printed by `astore tokens create`', exitCode: 2 });
  }
  const r = await db.query('update tokens set revoked_at = now() where id = $1 and revoked_at is null', [tokenId]);
  if (r.rowCount === 0) {
    throw new AppError('TOKEN_NOT_FOUND', `no active token with id ${tokenId}`, { exitCode: 2 });
  }
}

/** Revokes every active token of a user (a user's credentials all leaked, or a user leaving); the ids revoked. */
export async function revokeUserTokens(db: Queryable, user: string): Promise<string[]> {
  const known = await db.query('select 1 from users where name = $1', [user]);
  if (known.rowCount === 0) {
    throw new AppError('USER_NOT_FOUND', `no user named "${user}"`, { hint: 'astore tokens list --all shows the users that have tokens', exitCode: 2 });
  }
  const r = await db.query<{ id: string }>(
    `update tokens t set revoked_at = now() from users u
      where u.id = t.user_id and u.name = $1 and t.revoked_at is null returning t.id`, [user]);
  return r.rows.map((x) => x.id).sort();
}

/** Resolves a presented bearer token; undefined when unknown or revoked. */
export async function authenticate(db: Queryable, token: string): Promise<TokenInfo | undefined> {
  const r = await db.query<{ id: string; user_id: string; name: string }>(
    `select t.id, t.user_id, u.name from tokens t join users u on u.id = t.user_id
      where t.token_hash = $1 and t.revoked_at is null`, [hashToken(token)]);
  const row = r.rows[0];
  return row ? { id: row.id, userId: row.user_id, user: row.name } : undefined;
}

/**
 * One round trip for the hot path: the token's user and, if that user owns it, the instance.
 * `instance` is undefined both for unknown instances and for other users' instances. A named
 * (prepared) statement: every API request runs it, and each connection then parses and plans it
 * once instead of every time.
 */
export async function authorize(db: Queryable, token: string, instanceId: string): Promise<{ user: TokenInfo; instance: string | undefined } | undefined> {
  const id = UUID.test(instanceId) ? instanceId : null;
  const r = await db.query<{ id: string; user_id: string; name: string; instance_id: string | null }>({
    name: 'astore.authorize',
    text: `select t.id, t.user_id, u.name, i.id as instance_id
             from tokens t join users u on u.id = t.user_id
             left join instances i on i.id = $2::uuid and i.owner_id = t.user_id
            where t.token_hash = $1 and t.revoked_at is null`,
    values: [hashToken(token), id],
  });
  const row = r.rows[0];
  return row ? { user: { id: row.id, userId: row.user_id, user: row.name }, instance: row.instance_id ?? undefined } : undefined;
}
