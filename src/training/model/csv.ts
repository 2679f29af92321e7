/**
 * RFC 4180 CSV for labelled utterances (`text,intent`): quoted fields with doubled quotes,
 * commas and newlines inside quotes, CRLF or LF, a UTF-8 BOM, and an optional header row.
 */
import { AppError } from '../../errors/index.ts';

export interface LabelledText {
  text: string;
  intent: string;
}

export function parseCsvRecords(input: string): string[][] {
  const src = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  while (i < src.length) {
    const ch = src[i]!;
    if (quoted) {
      if (ch === '"') {
        if (src[i + 1] === '"') { field += '"'; i += 2; continue; }
        quoted = false;
      } else {
        field += ch;
      }
      i++;
      continue;
    }
    if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') { row.push(field); field = ''; }
    else if (ch === '\n' || ch === '\r') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      if (ch === '\r' && src[i + 1] === '\n') i++;
    } else field += ch;
    i++;
  }
  if (quoted) throw new AppError('CSV_UNTERMINATED_QUOTE', 'The CSV ends inside a quoted field.', { hint: 'Close the quoted field with a double quote.', exitCode: 2 });
  if (field !== '' || row.length > 0) { row.push(field); rows.push(row); }
  // Blank lines carry no data.
  return rows.filter((r) => !(r.length === 1 && r[0]!.trim() === ''));
}

const HEADER_TEXT = new Set(['text', 'sentence', 'utterance', 'example', 'question']);
const HEADER_INTENT = new Set(['intent', 'label', 'class', 'category']);

/** Rows of `text,intent`; a first row that names its columns is a header and is skipped. */
export function parseLabelledCsv(input: string, source = 'CSV'): LabelledText[] {
  const records = parseCsvRecords(input);
  const first = records[0];
  if (first && HEADER_TEXT.has(first[0]!.trim().toLowerCase()) && HEADER_INTENT.has((first[1] ?? '').trim().toLowerCase())) records.shift();
  return records.map((r, n) => {
    const text = r[0]?.trim() ?? '';
    const intent = r[1]?.trim() ?? '';
    if (text === '' || intent === '') {
      throw new AppError('CSV_BAD_ROW', `${source}: data row ${n + 1} needs a text and an intent (got ${JSON.stringify(r)}).`, {
        hint: 'Each row must be "text,intent"; quote texts that contain commas.', exitCode: 2,
      });
    }
    return { text, intent };
  });
}
