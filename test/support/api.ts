/** v1 API clients for tests: the real ibm-watson SDK, and plain requests as the SDK sends them. */
import assert from 'node:assert/strict';
import AssistantV1 from 'ibm-watson/assistant/v1.js';
import { BearerTokenAuthenticator } from 'ibm-watson/auth/index.js';

/**
 * `method path` against `serviceUrl` with the version parameter and the tenant's headers; a
 * response status of 300 or more fails the test with the body, so callers get the JSON.
 */
export async function v1Request(serviceUrl: string, headers: Record<string, string>, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${serviceUrl}${path}${path.includes('?') ? '&' : '?'}version=2021-11-27`, {
    method, headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** An SDK call that must fail with HTTP `status`; returns the SDK's error (message, body). */
export async function sdkRejects(call: Promise<unknown>, status: number): Promise<{ message: string; body: string }> {
  try {
    await call;
  } catch (err) {
    assert.equal((err as { status?: number }).status, status, `expected HTTP ${status}, got ${(err as Error).message}`);
    return err as { message: string; body: string };
  }
  assert.fail(`expected HTTP ${status}, but the call succeeded`);
}

/** The official SDK pointed at a tenant of a test store. */
export function sdkClient(serviceUrl: string, token: string, version = '2021-11-27'): AssistantV1 {
  return new AssistantV1({ version, serviceUrl, authenticator: new BearerTokenAuthenticator({ bearerToken: token }) });
}
