/**
 * A small router for the v1 API. Fastify's router decodes the path before matching, but v1
 * names may contain `/` (sent as %2F), so we split the raw path on `/` first and only then
 * percent-decode each segment (spec §1.5).
 */
export type Params = Record<string, string>;

export interface Route<H> { method: string; segments: string[]; handler: H }

export class Router<H> {
  readonly #routes: Array<Route<H>> = [];

  add(method: string, pattern: string, handler: H): this {
    this.#routes.push({ method, segments: pattern.split('/').filter(Boolean), handler });
    return this;
  }

  /** The handler and params for a decoded path, `methodNotAllowed` when only the method differs. */
  match(method: string, segments: string[]): { handler: H; params: Params } | { methodNotAllowed: true } | undefined {
    let pathMatched = false;
    for (const route of this.#routes) {
      if (route.segments.length !== segments.length) continue;
      const params: Params = {};
      let ok = true;
      for (let i = 0; i < segments.length && ok; i++) {
        const pattern = route.segments[i]!;
        if (pattern.startsWith(':')) params[pattern.slice(1)] = segments[i]!;
        else ok = pattern === segments[i];
      }
      if (!ok) continue;
      if (route.method === method) return { handler: route.handler, params };
      pathMatched = true;
    }
    return pathMatched ? { methodNotAllowed: true } : undefined;
  }
}

/**
 * Splits a raw URL path on `/` and percent-decodes each segment; undefined if badly encoded, or
 * if a segment holds U+0000: no stored name can (PostgreSQL refuses it), and a query with it fails.
 */
export function decodeSegments(rawPath: string): string[] | undefined {
  try {
    const segments = rawPath.split('/').filter((s) => s.length > 0).map((s) => decodeURIComponent(s));
    return segments.some((s) => s.includes('\u0000')) ? undefined : segments;
  } catch {
    return undefined;
  }
}
