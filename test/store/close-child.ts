/**
 * A process that uses the embedded server the way a CLI command does, for the close tests: opens
 * the store database on ASTORE_HOME (starting the server), prints "ready <admin url>", waits for a
 * line on stdin, closes the database, prints "closed" and ends — or would hang, if close() left a
 * running server holding the process open.
 */
import { createInterface } from 'node:readline';
import { openDatabase } from '../../src/store/index.ts';

const db = await openDatabase({ env: { ASTORE_HOME: process.env.ASTORE_HOME } });
process.stdout.write(`ready ${db.embedded!.cluster.url('postgres')} ${db.embedded!.cluster.owned}\n`);
const lines = createInterface({ input: process.stdin });
await new Promise((resolve) => lines.once('line', resolve));
lines.close();
await db.close();
process.stdout.write('closed\n');
