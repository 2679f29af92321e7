/** The documents as one multi-document YAML stream, each object preceded by its comment. */
import { Document } from 'yaml';
import type { ManifestDocument } from './document.ts';

const asComment = (text: string): string => text.split('\n').map((line) => (line ? ` ${line}` : '')).join('\n');

export function renderManifests(header: string, docs: ManifestDocument[]): string {
  return docs.map((d, i) => {
    // No anchors and aliases for the objects used twice (a Deployment's labels and its selector):
    // operators read and diff these files, and some tools mishandle aliases.
    const doc = new Document(d.object, { aliasDuplicateObjects: false });
    if (i === 0) doc.commentBefore = asComment(header);
    if (doc.contents) doc.contents.commentBefore = asComment(d.comment);
    // lineWidth 0: long values stay on one line, as kubectl prints them.
    return doc.toString({ lineWidth: 0 });
  }).join('---\n');
}
