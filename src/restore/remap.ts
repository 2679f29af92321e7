/**
 * Rewrites instance ids inside raw COPY text as it streams by. Instance ids are uuids, always
 * 36 bytes, and a target id replaces a source id byte for byte, so the rewrite covers every
 * column that holds the id — uuid references, the crn text, ids inside JSON — without decoding a
 * row. All matches in a buffer are found before any is written, so swapped pairs (a→b, b→a)
 * are not rewritten twice.
 */
const ID_LENGTH = 36;

export async function* rewriteIds(chunks: AsyncIterable<Buffer>, mapping: ReadonlyMap<string, string>): AsyncGenerator<Buffer> {
  const pairs = [...mapping].filter(([s, t]) => s !== t).map(([s, t]) => [Buffer.from(s, 'latin1'), Buffer.from(t, 'latin1')] as const);
  if (pairs.length === 0) {
    yield* chunks;
    return;
  }
  // The last ID_LENGTH-1 bytes are held back: an id may straddle two chunks.
  const keep = ID_LENGTH - 1;
  let carry: Buffer | undefined;
  for await (const chunk of chunks) {
    const buf = carry ? Buffer.concat([carry, chunk]) : Buffer.from(chunk);
    const hits: Array<[number, Buffer]> = [];
    for (const [source, target] of pairs) {
      for (let at = buf.indexOf(source); at >= 0; at = buf.indexOf(source, at + ID_LENGTH)) hits.push([at, target]);
    }
    for (const [at, target] of hits) target.copy(buf, at);
    if (buf.length <= keep) {
      carry = buf;
      continue;
    }
    carry = Buffer.from(buf.subarray(buf.length - keep));
    yield buf.subarray(0, buf.length - keep);
  }
  if (carry && carry.length > 0) yield carry;
}
