/** The default image tag: this package's version, so the image and the manifests come from one release. */
import { PACKAGE_VERSION } from '../config/index.ts';

export function defaultImage(): string {
  return `assistant-store:${PACKAGE_VERSION}`;
}
