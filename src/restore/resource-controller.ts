/**
 * The target deployment's instances, as its resource controller lists them. Each access token
 * sees the instances of its user; the target's instances are the union over all tokens.
 */
import { AppError } from '../errors/index.ts';
import type { ResourceControllerYaml } from './config.ts';

export interface TargetInstance { id: string; name: string; workspaces: number }

const PATH = '/api/ibmcloud/resource-controller/v2/resource_instances';

function describeFetchError(err: unknown, url: string): AppError {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code ?? '';
  const check = 'check host, port and protocol in resourceController.yaml';
  const table: Array<[boolean, string, string, string]> = [
    [code === 'ENOTFOUND' || code === 'EAI_AGAIN', 'RC_DNS', `cannot resolve the resource controller host of ${url}`, check],
    // The resource controller is the target's own API: nothing listening usually means it is not started.
    [code === 'ECONNREFUSED', 'RC_REFUSED', `connection to the resource controller ${url} was refused`,
      `start \`astore serve\` on the target (pgmig lists the target's instances through its API), or ${check}`],
    [/CERT|SSL|TLS/i.test(code + (cause?.message ?? '')), 'RC_TLS', `TLS handshake with the resource controller ${url} failed: ${cause?.message ?? code}`, check],
  ];
  for (const [match, c, message, hint] of table) {
    if (match) return new AppError(c, message, { hint, exitCode: 3, cause: err });
  }
  return new AppError('RC_CONNECT', `cannot reach the resource controller ${url}: ${cause?.message ?? (err as Error).message}`, {
    hint: check, exitCode: 3, cause: err,
  });
}

export async function listTargetInstances(rc: ResourceControllerYaml): Promise<TargetInstance[]> {
  const url = `${rc.protocol}://${rc.host}:${rc.port}${PATH}`;
  const byId = new Map<string, TargetInstance>();
  for (const [i, token] of rc.accessTokens.entries()) {
    let res: Response;
    try {
      res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(30_000) });
    } catch (err) {
      throw describeFetchError(err, url);
    }
    if (res.status === 401 || res.status === 403) {
      throw new AppError('RC_TOKEN_REJECTED', `the resource controller rejected access token ${i + 1} of ${rc.accessTokens.length} (HTTP ${res.status})`, {
        hint: 'replace it in resourceController.yaml with a current bearer token of the instance owner', exitCode: 3,
      });
    }
    if (!res.ok) {
      throw new AppError('RC_ERROR', `the resource controller ${url} answered HTTP ${res.status}`, { hint: 'is host:port the store API?', exitCode: 3 });
    }
    const body = (await res.json().catch(() => undefined)) as { resources?: Array<{ guid?: string; name?: string; extensions?: { workspaces?: number } }> } | undefined;
    if (!body || !Array.isArray(body.resources)) {
      throw new AppError('RC_ERROR', `the resource controller ${url} did not answer with a resource list`, { hint: 'is host:port the store API?', exitCode: 3 });
    }
    for (const r of body.resources) {
      if (typeof r.guid !== 'string') continue;
      byId.set(r.guid.toLowerCase(), { id: r.guid.toLowerCase(), name: r.name ?? '', workspaces: r.extensions?.workspaces ?? 0 });
    }
  }
  return [...byId.values()];
}
