export { readPostgresYaml, formatPostgresYaml, postgresYamlSchema, type PostgresYaml } from './postgres-yaml.ts';
export {
  resolveTarget, astoreHome, tlsFromEnv, connectionFromYaml, connectionFromUrl, connectionUrl,
  type DatabaseTarget, type PgConnection, type TargetOptions,
} from './connection.ts';
export { parseSwitch } from './switch.ts';
export { PACKAGE_VERSION } from './package-version.ts';
export { yamlProblem } from './yaml.ts';
