/** v1 API requests as the SDK sends them, for tests that speak HTTP without the SDK. */
import assert from 'node:assert/strict';

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
