/** The default image tag: this package's version, so the image and the manifests come from one release. */
import { readFileSync } from 'node:fs';

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function defaultImage(): string {
  return `assistant-store:${packageVersion()}`;
}
