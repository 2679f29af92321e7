/**
 * This release's version, read from package.json itself: npm_package_version is set only when run
 * through npm, so `bin/astore -V` run directly would otherwise print a fixed fallback.
 */
import { createRequire } from 'node:module';

export const PACKAGE_VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
