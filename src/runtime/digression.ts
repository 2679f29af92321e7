/**
 * Digression settings (docs: dialog-runtime, "Digressions"): whether a node waiting for input may
 * be left for a root-level node, whether that root node may be entered, and whether the dialog
 * comes back afterwards. The pending returns travel in context.system.dialog_stack, below the top.
 */
import type { CompiledNode } from './dialog.ts';
import type { DialogNode } from './types.ts';

/** How a waiting node may be left: only for nodes that return, for any, or for any without return. */
export type DigressMode = 'returning' | 'all' | 'never_return';

/**
 * A root-level node's own digress_in, else that of the folder it sits in (a folder's setting
 * applies to the nodes inside it). The docs' default: digressions may enter, and do not return.
 */
export function digressIn(node: CompiledNode): NonNullable<DialogNode['digress_in']> {
  for (let at: CompiledNode | undefined = node; at; at = at.parent) {
    if (at.raw.digress_in) return at.raw.digress_in;
    if (at.parent?.type !== 'folder') break;
  }
  return 'does_not_return';
}

/** A node waiting for one of its children. Unset means allow_all: "all other nodes" allow it. */
export function childrenMode(node: CompiledNode): DigressMode {
  switch (node.raw.digress_out) {
    case 'allow_returning': return 'returning';
    case 'allow_all_never_return': return 'never_return';
    default: return 'all';
  }
}

/** A frame waiting for a slot. Unset means not_allowed: "nodes with slots prevent digressions away". */
export function slotsMode(frame: CompiledNode): DigressMode | undefined {
  switch (frame.raw.digress_out_slots) {
    case 'allow_returning': return 'returning';
    case 'allow_all': return 'all';
    default: return undefined;
  }
}

/**
 * Whether a digression may enter `node`. Nodes that do not return are no targets when only
 * returning ones are allowed, nor while an earlier digression waits to return (the docs' "digression
 * chains": later nodes in the chain that do not return are excluded).
 */
export function canEnter(node: CompiledNode, onlyReturning: boolean): boolean {
  const into = digressIn(node);
  return into !== 'not_available' && (!onlyReturning || into === 'returns');
}

/**
 * Whether `node` is an anything_else node. While a frame waits for a slot, the docs ("order in
 * which conditions are evaluated") check the root nodes "except the final anything else node":
 * input the slot did not understand is asked for again instead of ending the frame.
 */
export function isAnythingElse(node: CompiledNode): boolean {
  return node.raw.conditions?.trim() === 'anything_else';
}
