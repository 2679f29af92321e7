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
  // Lower-casing a whole word writes a final sigma (ΟΔΟΣ → οδος), one letter alone a medial one
  // (foldText folds letter by letter): both are σ here, one character for one, so offsets hold.
  return s.normalize('NFD').replace(MARKS, '').toLowerCase().replace(/ς/g, 'σ');
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
// Chinese and Japanese are written without spaces between words: each ideograph or kana is a
// token of its own, so a synonym (東京) matches inside a sentence (東京に行きたい), as in Watson.
const UNSPACED = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u;
const ASCII_WORD = Uint8Array.from({ length: 0x80 }, (_, c) => (WORD_CHAR.test(String.fromCharCode(c)) ? 1 : 0));

export interface Token {
  start: number;
  end: number;
}

/**
 * Word tokens (letters, digits, underscore) of folded text; punctuation only separates them, and
 * each Chinese or Japanese character is a token of its own.
 */
export function wordTokens(text: string): Token[] {
  const tokens: Token[] = [];
  let start = -1;
  for (let i = 0; i <= text.length; ) {
    const cp = i < text.length ? text.codePointAt(i)! : -1;
    const width = cp > 0xffff ? 2 : 1;
    let unspaced = false;
    let isWord: boolean;
    if (cp < 0x80) isWord = cp >= 0 && ASCII_WORD[cp] === 1; // the common case, without a string per character
    else {
      const ch = String.fromCodePoint(cp);
      unspaced = cp >= 0x2e80 && UNSPACED.test(ch);
      isWord = unspaced || WORD_CHAR.test(ch);
    }
    if (start !== -1 && (!isWord || unspaced)) {
      tokens.push({ start, end: i });
      start = -1;
    }
    if (unspaced) tokens.push({ start: i, end: i + width });
    else if (isWord && start === -1) start = i;
    i += width;
  }
  return tokens;
}

/** Whether a character of folded text is part of a word (see wordTokens); false past either end. */
export function isWordChar(text: string, i: number): boolean {
  if (i < 0 || i >= text.length) return false;
  const c = text.charCodeAt(i);
  return c < 0x80 ? ASCII_WORD[c] === 1 : WORD_CHAR.test(String.fromCodePoint(text.codePointAt(i)!));
}
