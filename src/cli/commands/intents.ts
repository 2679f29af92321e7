import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { AppError } from '../../errors/index.ts';
import { printJson } from '../json.ts';
import { DEFAULT_THRESHOLD, evaluateIntents, parseLabelledCsv, type EvaluationReport } from '../../training/index.ts';

export function register(program: Command): void {
  const intents = program.command('intents').description('Intent model tools');
  intents
    .command('eval')
    .description('Train the intent model on a CSV of "text,intent" rows exactly as a workspace is trained, and score it on another')
    .requiredOption('--train <file>', 'training CSV (rows text,intent; header optional; out-of-scope rows become counterexamples)')
    .requiredOption('--test <file>', 'test CSV (rows text,intent; rows labelled oos/out_of_scope/NO_NODES_DETECTED are out of scope)')
    .option('--threshold <confidence>', 'top confidence below which an input counts as "no intent"', String(DEFAULT_THRESHOLD))
    .option('--language <code>', 'workspace language', 'en')
    .option('--json', 'print the report as JSON')
    .action((opts: { train: string; test: string; threshold: string; language: string; json?: boolean }) => {
      const threshold = Number(opts.threshold);
      if (!(threshold >= 0 && threshold <= 1)) {
        throw new AppError('BAD_THRESHOLD', `--threshold must be a number between 0 and 1 (got "${opts.threshold}").`, {
          hint: 'the threshold is the top confidence below which no intent counts as recognised; Watson uses 0.2', exitCode: 2,
        });
      }
      const report = evaluateIntents(readCsv(opts.train), readCsv(opts.test), { threshold, language: opts.language });
      if (opts.json) printJson(report);
      else process.stdout.write(format(report));
    });
}

function readCsv(path: string) {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new AppError('FILE_UNREADABLE', `Cannot read ${path}: ${(err as Error).message}.`, { hint: 'Check the path.', exitCode: 2, cause: err });
  }
  const rows = parseLabelledCsv(text, path);
  // Scored anyway, an empty file gave accuracy 0 (or a model of nothing) and exit 0.
  if (rows.length === 0) {
    throw new AppError('CSV_EMPTY', `${path} has no data rows.`, { hint: 'Each row must be "text,intent" (a header row "text,intent" is optional).', exitCode: 2 });
  }
  return rows;
}

function format(r: EvaluationReport): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const lines = [
    `trained on ${r.trainExamples} examples in ${r.intents} intents` + (r.counterexamples ? ` + ${r.counterexamples} counterexamples` : '') + ` in ${r.trainingMs.toFixed(0)} ms`,
    `test rows: ${r.rows}`,
    `accuracy: ${pct(r.accuracy)}` + (r.outOfScope ? ` (in-scope rows need top confidence >= ${r.threshold})` : ''),
    `in-scope accuracy (top intent): ${pct(r.inScope.accuracy)} over ${r.inScope.rows} rows`,
    `macro-F1: ${r.inScope.macroF1.toFixed(3)}`,
  ];
  if (r.outOfScope) lines.push(`out-of-scope recall (top confidence < ${r.threshold}): ${pct(r.outOfScope.recall)} over ${r.outOfScope.rows} rows`);
  lines.push(`classify: ${r.classifyMicros.toFixed(0)} µs per text`);
  return lines.join('\n') + '\n';
}
