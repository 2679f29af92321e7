/**
 * Case- and accent-insensitive text, with a way back to the original offsets: entity locations must
 * point into the text the user sent, while matching happens on the folded copy.
 */

export interface FoldedText {
  /** Lower-cased, without combining marks. */
  text: string;
  /** For each UTF-16 index of `text` (and one past the end), the index in the original string. */
  origin: number[];
}

const MARKS = /\p{M}/gu;

export function foldString(s: string): string {
  return s.normalize('NFD').replace(MARKS, '').toLowerCase();
}

export function foldText(original: string): FoldedText {
  // ASCII text is by far the common case; it folds without changing any offset.
  if (/^[\x00-\x7f]*$/.test(original)) {
    const origin = new Array<number>(original.length + 1);
    for (let i = 0; i <= original.length; i++) origin[i] = i;
    return { text: original.toLowerCase(), origin };
  }
  let text = '';
  const origin: number[] = [];
  for (let i = 0; i < original.length; ) {
    const cp = original.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    const piece = foldString(String.fromCodePoint(cp));
    for (let k = 0; k < piece.length; k++) origin.push(i);
    text += piece;
    i += width;
  }
  origin.push(original.length);
  return { text, origin };
}

/** Synonyms and values as the matcher indexes them: folded, with runs of whitespace as one space. */
export function foldPhrase(s: string): string {
  return foldString(s).trim().replace(/\s+/g, ' ');
}

const WORD_CHAR = /[\p{L}\p{N}_]/u;

export interface Token {
  start: number;
  end: number;
}

/** Word tokens (letters, digits, underscore) of folded text; punctuation only separates them. */
export function wordTokens(text: string): Token[] {
  const tokens: Token[] = [];
  let start = -1;
  for (let i = 0; i <= text.length; i++) {
    const isWord = i < text.length && WORD_CHAR.test(text[i]!);
    if (isWord && start === -1) start = i;
    else if (!isWord && start !== -1) {
      tokens.push({ start, end: i });
      start = -1;
    }
  }
  return tokens;
}
