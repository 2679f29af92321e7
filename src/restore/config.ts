/**
 * The seeds' input files: resourceController.yaml (accessTokens, host, port) and the instance
 * mapping file (`instance-mappings:` source id → target id, the format of enteredMapping.yaml).
 */
import { readFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { UUID } from '../auth/index.ts';
import { yamlProblem } from '../config/index.ts';
import { AppError } from '../errors/index.ts';

const rcSchema = z.object({
  accessTokens: z.array(z.union([z.string(), z.number()]).transform(String)).min(1),
  host: z.string().min(1),
  port: z.coerce.number().int().min(1).max(65535),
  // Not in the seeds: the seeds' gateway is always TLS; `astore serve` listens on plain HTTP.
  protocol: z.enum(['http', 'https']).default('http'),
});
export type ResourceControllerYaml = z.infer<typeof rcSchema>;

function readYaml(file: string, what: string, hint: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new AppError('CONFIG_NOT_FOUND', `cannot read ${what} ${file}: ${(err as Error).message}`, { hint, exitCode: 2 });
  }
  try {
    return parse(text);
  } catch (err) {
    throw new AppError('CONFIG_INVALID', `${file} is not valid YAML: ${yamlProblem(err as Error)}`, { hint, exitCode: 2 });
  }
}

export function readResourceControllerYaml(file: string): ResourceControllerYaml {
  const hint = 'resourceController.yaml needs accessTokens (a list of bearer tokens), host and port (optional protocol: http|https)';
  const parsed = rcSchema.safeParse(readYaml(file, 'the resource controller file', hint));
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new AppError('CONFIG_INVALID', `${file} is not a valid resourceController.yaml (${fields})`, { hint, exitCode: 2 });
  }
  return parsed.data;
}


/** Reads a mapping file; ids are lower-cased, the form PostgreSQL prints uuids in. */
export function readMappingFile(file: string): Map<string, string> {
  const hint = 'the mapping file looks like enteredMapping.yaml: `instance-mappings:` followed by `SOURCE-ID: TARGET-ID` lines';
  const doc = readYaml(file, 'the mapping file', hint) as { 'instance-mappings'?: unknown } | null;
  const m = doc?.['instance-mappings'];
  if (!m || typeof m !== 'object' || Array.isArray(m)) {
    throw new AppError('MAPPING_INVALID', `${file} has no instance-mappings map`, { hint, exitCode: 2 });
  }
  const out = new Map<string, string>();
  for (const [source, target] of Object.entries(m as Record<string, unknown>)) {
    if (!UUID.test(source) || typeof target !== 'string' || !UUID.test(target)) {
      throw new AppError('MAPPING_INVALID', `${file}: "${source}: ${String(target)}" is not a mapping of one instance id to another`, { hint, exitCode: 2 });
    }
    // YAML keeps keys differing only in case apart; as instance ids they are one instance.
    if (out.has(source.toLowerCase())) {
      throw new AppError('MAPPING_INVALID', `${file}: instance ${source.toLowerCase()} is listed more than once (ids are not case-sensitive)`, { hint, exitCode: 2 });
    }
    out.set(source.toLowerCase(), target.toLowerCase());
  }
  return out;
}

export function formatMapping(mapping: Map<string, string>): string {
  return stringify({ 'instance-mappings': Object.fromEntries(mapping) });
}
