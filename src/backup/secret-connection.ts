/**
 * The connection from a Kubernetes Secret, as `oc get secret -o yaml` prints it: base64
 * `data.vcap_services` (store-vcap secrets up to 4.8.5/5.0.0) or `data.store_vcap_services`
 * (store-datastore-connection secrets from 4.8.6/5.0.1), each holding
 * `{"user-provided":[{"name":"pgservice","credentials":{host,port,database,username,password}}]}`.
 * `stringData` (what people write by hand) is accepted too.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { tlsFromEnv, yamlProblem, type PgConnection } from '../config/index.ts';
import { AppError } from '../errors/index.ts';

const KEYS = ['store_vcap_services', 'vcap_services'] as const;
const FIELDS = ['host', 'port', 'database', 'username', 'password'] as const;

function bad(file: string, message: string): AppError {
  return new AppError('SECRET_INVALID', `${file}: ${message}`, {
    hint: 'pass the store connection secret as `oc get secret NAME -o yaml` prints it (data.vcap_services or data.store_vcap_services)',
    exitCode: 2,
  });
}

export function connectionFromSecretYaml(text: string, file: string, env: NodeJS.ProcessEnv = process.env): PgConnection {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw bad(file, `not valid YAML: ${yamlProblem(err as Error)}`);
  }
  const d = doc as { kind?: unknown; data?: Record<string, unknown>; stringData?: Record<string, unknown> } | null;
  if (!d || typeof d !== 'object') throw bad(file, 'not a Kubernetes Secret (no mapping at top level)');
  let json: string | undefined;
  let where = '';
  for (const k of KEYS) {
    const encoded = d.data?.[k];
    const plain = d.stringData?.[k];
    if (typeof encoded === 'string') { json = Buffer.from(encoded, 'base64').toString('utf8'); where = `data.${k}`; break; }
    if (typeof plain === 'string') { json = plain; where = `stringData.${k}`; break; }
  }
  if (json === undefined) throw bad(file, 'missing field data.vcap_services or data.store_vcap_services');
  let vcap: unknown;
  try {
    vcap = JSON.parse(json);
  } catch {
    throw bad(file, `${where} does not decode to JSON (is it base64 of the VCAP JSON?)`);
  }
  const provided = (vcap as Record<string, unknown> | null)?.['user-provided'];
  if (!Array.isArray(provided) || provided.length === 0) throw bad(file, `missing field ${where}["user-provided"]`);
  const service = (provided.find((p) => (p as { name?: unknown })?.name === 'pgservice') ?? provided[0]) as { credentials?: Record<string, unknown> };
  const creds = service?.credentials;
  if (!creds || typeof creds !== 'object') throw bad(file, `missing field ${where}["user-provided"][].credentials`);
  for (const f of FIELDS) {
    const v = creds[f];
    if (v === undefined || v === null || v === '') throw bad(file, `missing field ${where}["user-provided"][].credentials.${f}`);
    if (f !== 'port' && typeof v !== 'string' && typeof v !== 'number') throw bad(file, `credentials.${f} is ${JSON.stringify(v)}, expected a string`);
  }
  // Checked here, naming the field: once in a connection URL, a bad host was reported as a bad DATABASE_URL.
  if (!/^(\[[0-9a-fA-F:.]+\]|[^\s/@?#[\]]+)$/.test(String(creds.host))) {
    throw bad(file, `credentials.host is ${JSON.stringify(creds.host)}, expected a host name or IP address`);
  }
  const port = Number(creds.port);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw bad(file, `credentials.port is ${JSON.stringify(creds.port)}, expected a TCP port`);
  return {
    // An IPv6 address may come bracketed, as in a URL; the driver wants it bare.
    host: String(creds.host).replace(/^\[(.*)\]$/, '$1'), port, database: String(creds.database), user: String(creds.username),
    password: String(creds.password), ssl: tlsFromEnv(env),
  };
}

export function readSecretConnection(file: string, env: NodeJS.ProcessEnv = process.env): PgConnection {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new AppError('SECRET_UNREADABLE', `secret file ${file} cannot be read: ${(err as Error).message}`, {
      hint: 'check the path given with --secret; save the store connection secret first (`oc get secret NAME -o yaml > store-secret.yaml`)', exitCode: 2,
    });
  }
  return connectionFromSecretYaml(text, file, env);
}
