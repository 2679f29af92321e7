/**
 * Which target instance each backed-up instance goes to: from a mapping file (`-m`), or asked on
 * the terminal and saved as enteredMapping.yaml. Every rule is checked before the target is
 * touched.
 */
import { randomBytes } from 'node:crypto';
import { unlink, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline/promises';
import { join } from 'node:path';
import { AppError } from '../errors/index.ts';
import { writeAtomic } from '../store/index.ts';
import { formatMapping, readMappingFile } from './config.ts';
import type { TargetInstance } from './resource-controller.ts';
import type { SourceInstance } from './scan.ts';

export const ENTERED_MAPPING_FILE = 'enteredMapping.yaml';

export interface MappingOptions {
  file?: string | undefined;
  /** A terminal to ask on; without one, a missing mapping is an error. */
  interactive: boolean;
  cwd: string;
  /** Where the answers come from (tests); default stdin. */
  input?: NodeJS.ReadableStream | undefined;
}

export function checkInstanceCount(sources: SourceInstance[], targets: TargetInstance[]): void {
  if (sources.length !== targets.length) {
    throw new AppError('INSTANCE_COUNT_MISMATCH',
      `the backup has ${sources.length} instance(s), the target deployment has ${targets.length} (listed with ${targets.length === 0 ? 'the given' : 'all'} access tokens)`, {
        hint: 'create one target instance per backed-up instance (and list a token of every owner in resourceController.yaml), then run pgmig again',
        exitCode: 2, details: { backup: sources.map((s) => s.id), target: targets.map((t) => t.id) },
      });
  }
}

export function validateMapping(mapping: Map<string, string>, sources: SourceInstance[], targets: TargetInstance[], origin: string): void {
  const sourceIds = new Set(sources.map((s) => s.id));
  const targetIds = new Set(targets.map((t) => t.id));
  const hint = `each of the backup's instances (${[...sourceIds].join(', ')}) must map to a different target instance (${[...targetIds].join(', ')})`;
  const fail = (code: string, message: string): never => { throw new AppError(code, `${origin}: ${message}`, { hint, exitCode: 2 }); };
  for (const [source, target] of mapping) {
    if (!sourceIds.has(source)) fail('MAPPING_UNKNOWN_SOURCE', `instance ${source} is not in the backup`);
    if (!targetIds.has(target)) fail('MAPPING_UNKNOWN_TARGET', `instance ${target} is not an instance of the target deployment`);
  }
  const missing = [...sourceIds].filter((id) => !mapping.has(id));
  if (missing.length > 0) fail('MAPPING_INCOMPLETE', `no target for backed-up instance(s) ${missing.join(', ')}`);
  const seen = new Map<string, string>();
  for (const [source, target] of mapping) {
    const other = seen.get(target);
    if (other) fail('MAPPING_DUPLICATE_TARGET', `instances ${other} and ${source} both map to ${target}`);
    seen.set(target, source);
  }
}

function aborted(): AppError {
  return new AppError('RESTORE_ABORTED', 'aborted at the mapping prompt; nothing was changed', {
    hint: `run pgmig again to answer the prompt, or pass the mapping with -m FILE (the format of ${ENTERED_MAPPING_FILE})`,
    exitCode: 8,
  });
}

/**
 * Asks for each backed-up instance's target. The targets keep their numbers from question to
 * question (a taken one is marked, not removed): renumbering made an operator who prepared answers
 * from the first list pick the wrong instance. Lines are read through the interface's async
 * iterator, which buffers them: with question(), answers pasted or typed ahead arrived while no
 * question was pending and were dropped.
 */
async function ask(sources: SourceInstance[], targets: TargetInstance[], input: NodeJS.ReadableStream): Promise<Map<string, string>> {
  const rl = createInterface({ input, output: process.stderr });
  const lines = rl[Symbol.asyncIterator]();
  // Ctrl-C on a terminal: end the input, which ends the iterator (as Ctrl-D and a closed pipe do).
  rl.on('SIGINT', () => rl.close());
  const mapping = new Map<string, string>();
  const takenBy = new Map<string, string>();
  try {
    for (const s of sources) {
      process.stderr.write(`\nBacked-up instance ${s.id} "${s.name}" (${s.workspaces} workspace(s)) goes to:\n`);
      targets.forEach((t, i) => process.stderr.write(takenBy.has(t.id)
        ? `  ${i + 1}) ${t.id} "${t.name}" (taken by ${takenBy.get(t.id)})\n`
        : `  ${i + 1}) ${t.id} "${t.name}" (${t.workspaces} workspace(s), replaced)\n`));
      for (;;) {
        rl.setPrompt(`choice [1-${targets.length}] or target id: `);
        rl.prompt();
        const next = await lines.next();
        if (next.done) throw aborted();
        const answer = String(next.value).trim().toLowerCase();
        const chosen = targets[Number(answer) - 1] ?? targets.find((t) => t.id === answer);
        if (!chosen) { process.stderr.write(`"${answer}" is not one of the choices\n`); continue; }
        if (takenBy.has(chosen.id)) { process.stderr.write(`${chosen.id} is already the target of ${takenBy.get(chosen.id)}\n`); continue; }
        mapping.set(s.id, chosen.id);
        takenBy.set(chosen.id, s.id);
        break;
      }
    }
  } finally {
    rl.close();
  }
  return mapping;
}

function notSavable(dir: string, cause: unknown): AppError {
  return new AppError('MAPPING_NOT_SAVABLE', `cannot save the entered mapping as ${ENTERED_MAPPING_FILE} in ${dir}: ${(cause as Error).message}; nothing was changed`, {
    hint: `run pgmig from a directory it can write to, or pass the mapping with -m FILE (the format of ${ENTERED_MAPPING_FILE})`,
    exitCode: 2, cause,
  });
}

async function probeWritable(dir: string): Promise<void> {
  const probe = join(dir, `.${ENTERED_MAPPING_FILE}.probe-${process.pid}-${randomBytes(3).toString('hex')}`);
  try {
    await writeFile(probe, '', { flag: 'wx' });
  } catch (err) {
    throw notSavable(dir, err);
  }
  await unlink(probe).catch(() => undefined);
}

export async function resolveMapping(sources: SourceInstance[], targets: TargetInstance[], o: MappingOptions): Promise<{ mapping: Map<string, string>; savedTo?: string }> {
  checkInstanceCount(sources, targets);
  if (o.file) {
    const mapping = readMappingFile(o.file);
    validateMapping(mapping, sources, targets, o.file);
    return { mapping };
  }
  if (!o.interactive) {
    throw new AppError('MAPPING_NEEDS_TTY', 'no mapping file was given and there is no terminal to ask for the instance mapping on', {
      hint: `pass -m FILE (the format of ${ENTERED_MAPPING_FILE}: \`instance-mappings:\` with SOURCE-ID: TARGET-ID lines), or run pgmig on a terminal`,
      exitCode: 2,
    });
  }
  const savedTo = join(o.cwd, ENTERED_MAPPING_FILE);
  // The answers are saved once given; find out now, not after the last question, that they cannot be.
  await probeWritable(o.cwd);
  const mapping = await ask(sources, targets, o.input ?? process.stdin);
  validateMapping(mapping, sources, targets, 'entered mapping');
  try {
    await writeAtomic(savedTo, formatMapping(mapping));
  } catch (err) {
    throw notSavable(o.cwd, err);
  }
  return { mapping, savedTo };
}
