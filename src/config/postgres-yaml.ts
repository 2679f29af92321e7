/**
 * The seeds' `postgres.yaml`: host, port, database, username, su_username, su_password.
 * The store connects as the superuser pair (restore and backup need it); `username` is the
 * application role and is kept for `astore db info` round trips.
 */
import { readFileSync } from 'node:fs';
import { isMap, isScalar, parseDocument, stringify } from 'yaml';
import { z } from 'zod';
import { AppError } from '../errors/index.ts';
import { yamlProblem } from './yaml.ts';

export const postgresYamlSchema = z.object({
  host: z.string().min(1),
  port: z.coerce.number().int().min(1).max(65535).default(5432),
  database: z.string().min(1),
  username: z.string().min(1).optional(),
  su_username: z.string().min(1),
  su_password: z.union([z.string(), z.number()]).transform(String),
});
export type PostgresYaml = z.infer<typeof postgresYamlSchema>;

export function readPostgresYaml(file: string): PostgresYaml {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new AppError('CONFIG_NOT_FOUND', `cannot read ${file}: ${(err as Error).message}`, {
      hint: 'pass the path of a postgres.yaml with host, port, database, username, su_username and su_password',
      exitCode: 2,
    });
  }
  const parsed = postgresYamlSchema.safeParse(parseAsWritten(text, file));
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new AppError('CONFIG_INVALID', `${file} is not a valid postgres.yaml (${fields})`, {
      hint: 'expected keys: host, port, database, username, su_username, su_password',
      exitCode: 2,
    });
  }
  return parsed.data;
}

/**
 * The YAML with every top-level number or boolean kept as the text written. Each field is a
 * string (port is coerced), and YAML's reading of an unquoted password such as 0123, 0x1F or 1e3
 * as a number changed it (123, 31, 1000): the server then refused the right password.
 */
function parseAsWritten(text: string, file: string): unknown {
  const doc = parseDocument(text);
  const error = doc.errors[0];
  if (error) {
    throw new AppError('CONFIG_INVALID', `${file} is not valid YAML: ${yamlProblem(error)}`, {
      hint: 'fix the line the message names: postgres.yaml is `key: value` lines (host, port, database, su_username, su_password; `astore db info` prints one)', exitCode: 2,
    });
  }
  if (isMap(doc.contents)) {
    for (const pair of doc.contents.items) {
      const v = pair.value;
      if (isScalar(v) && (typeof v.value === 'number' || typeof v.value === 'boolean') && v.source !== undefined) v.value = v.source;
    }
  }
  return doc.toJS();
}

export function formatPostgresYaml(p: PostgresYaml): string {
  return stringify({
    host: p.host, port: p.port, database: p.database, username: p.username ?? p.su_username,
    su_username: p.su_username, su_password: p.su_password,
  });
}
