/**
 * Compiles a workspace's dialog once: the node tree in sibling order, every condition, output and
 * context value parsed into closures, and the entity tables built. The result is immutable and is
 * what the message endpoint caches per workspace version.
 */
import { SYSTEM_ENTITIES } from './system-entities.ts';
import { compileEntities, type EntityMatcher } from './entities.ts';
import { compileExpression, ExpressionSyntaxError, type Evaluate } from './expression.ts';
import { compileTemplate, compileValue } from './template.ts';
import type { DialogNode, LogMessage, NextStep, Workspace } from './types.ts';

export type SelectionPolicy = 'sequential' | 'random' | 'multiline';

export type CompiledGeneric =
  | { kind: 'text'; values: Evaluate[]; policy: SelectionPolicy; delimiter: string }
  | { kind: 'other'; item: Evaluate };

export interface CompiledNode {
  id: string;
  type: NonNullable<DialogNode['type']>;
  raw: DialogNode;
  parent: CompiledNode | undefined;
  /** undefined when the node has no condition; see `defaultCondition`. */
  condition: Evaluate | undefined;
  context: Array<[string, Evaluate]>;
  generic: CompiledGeneric[];
  /** Output keys other than generic/text (e.g. custom `action` objects), passed through. */
  extraOutput: Array<[string, Evaluate]>;
  nextStep: NextStep | undefined;
  /**
   * Why part of the node cannot work here (an unreadable expression, a system entity this store
   * does not recognise); reported when a turn reaches the node.
   */
  problem: LogMessage | undefined;
  /** Slot nodes: the context variable the slot fills, without `$`. */
  variable: string | undefined;
  /** standard, frame and folder children, in sibling order: the next turn's candidates. */
  children: CompiledNode[];
  responseConditions: CompiledNode[];
  slots: CompiledNode[];
  handlers: Map<string, CompiledNode[]>;
  /** Position among its parent's dialog children (or the roots). */
  siblings: CompiledNode[];
}

export interface CompiledDialog {
  roots: CompiledNode[];
  nodes: Map<string, CompiledNode>;
  entities: EntityMatcher;
  /** Problems found while compiling (unreadable conditions, outputs, patterns), for the store's log. */
  warnings: LogMessage[];
}

export function compileDialog(workspace: Workspace): CompiledDialog {
  const warnings: LogMessage[] = [];
  const all = workspace.dialog_nodes ?? [];
  const raw = all.filter((n) => !n.disabled);
  const nodes = new Map<string, CompiledNode>();
  for (const n of raw) {
    const node = compileNode(n);
    if (node.problem) warnings.push(node.problem);
    nodes.set(n.dialog_node, node);
  }

  // Disabled nodes still hold their place in the previous_sibling chains: the node after one
  // names it as its previous sibling, so the order is worked out first and they are left out after.
  const ids = new Set(all.map((n) => n.dialog_node));
  const byParent = new Map<string | undefined, DialogNode[]>();
  for (const n of all) {
    const parent = n.parent !== undefined && ids.has(n.parent) ? n.parent : undefined;
    const list = byParent.get(parent) ?? [];
    list.push(n);
    byParent.set(parent, list);
  }

  let roots: CompiledNode[] = [];
  for (const [parentId, group] of byParent) {
    // The children of a disabled node are switched off with it.
    if (parentId !== undefined && !nodes.has(parentId)) continue;
    const ordered = siblingOrder(group).filter((n) => !n.disabled).map((n) => nodes.get(n.dialog_node)!);
    const parent = parentId === undefined ? undefined : nodes.get(parentId)!;
    const dialogChildren = ordered.filter((c) => c.type === 'standard' || c.type === 'frame' || c.type === 'folder');
    for (const c of ordered) {
      c.parent = parent;
      c.siblings = dialogChildren;
    }
    if (!parent) {
      roots = dialogChildren;
      continue;
    }
    parent.children = dialogChildren;
    parent.responseConditions = ordered.filter((c) => c.type === 'response_condition');
    parent.slots = ordered.filter((c) => c.type === 'slot');
    for (const h of ordered.filter((c) => c.type === 'event_handler')) {
      const event = h.raw.event_name ?? 'input';
      const handlers = parent.handlers.get(event);
      if (handlers) handlers.push(h);
      else parent.handlers.set(event, [h]);
    }
  }

  const entities = compileEntities(workspace.entities ?? []);
  warnings.push(...entities.warnings);
  // Old workspaces enable every system entity; only those the dialog uses are worth a warning.
  const mentions = (json: string, name: string): boolean => new RegExp(`@${name}(?![\\w-])`).test(json);
  const used = JSON.stringify(raw);
  const missing = entities.unsupported.filter((name) => mentions(used, name));
  for (const name of missing) {
    warnings.push({
      level: 'warn', code: 'entity.system_unsupported',
      msg: `System entity @${name} is not recognised by this store (it recognises @${SYSTEM_ENTITIES.join(', @')}); dialog conditions on it never match.`,
    });
  }
  // And in the turns that reach a node using one: a slot waiting for @sys-person otherwise asks
  // for the name again and again with nothing in the response to say why.
  if (missing.length > 0) {
    for (const node of nodes.values()) {
      const json = JSON.stringify(node.raw);
      const name = missing.find((m) => mentions(json, m));
      if (name === undefined) continue;
      node.problem ??= {
        level: 'warn', code: 'entity.system_unsupported', source: { dialog_node: node.id },
        msg: `Dialog node "${node.id}" uses @${name}, a system entity this store does not recognise; it is never found in the input.`,
      };
    }
  }
  return { roots, nodes, entities, warnings };
}

/** Follows the previous_sibling chain; nodes with a broken chain keep their export order at the end. */
function siblingOrder(group: DialogNode[]): DialogNode[] {
  const ids = new Set(group.map((n) => n.dialog_node));
  const after = new Map<string | undefined, DialogNode[]>();
  for (const n of group) {
    const prev = n.previous_sibling !== undefined && ids.has(n.previous_sibling) ? n.previous_sibling : undefined;
    const list = after.get(prev);
    if (list) list.push(n);
    else after.set(prev, [n]);
  }
  const out: DialogNode[] = [];
  const seen = new Set<string>();
  // Depth first along the chain, with an explicit stack: a chain is as long as the group (an FAQ
  // skill's 10,000 root nodes), and recursing once per node overflowed the call stack at ~8,500.
  const stack: Array<{ list: DialogNode[]; next: number }> = [{ list: after.get(undefined) ?? [], next: 0 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const n = top.list[top.next++];
    if (n === undefined) {
      stack.pop();
      continue;
    }
    if (seen.has(n.dialog_node)) continue;
    seen.add(n.dialog_node);
    out.push(n);
    const following = after.get(n.dialog_node);
    if (following) stack.push({ list: following, next: 0 });
  }
  for (const n of group) if (!seen.has(n.dialog_node)) out.push(n);
  return out;
}

function compileNode(n: DialogNode): CompiledNode {
  let problem: LogMessage | undefined;
  const guard = <T>(what: string, fallback: T, build: () => T): T => {
    try {
      return build();
    } catch (err) {
      if (!(err instanceof ExpressionSyntaxError)) throw err;
      problem ??= { level: 'warn', code: 'dialog.expression_invalid', msg: `${what} of dialog node "${n.dialog_node}" cannot be read (${err.message}); it is ignored.`, source: { dialog_node: n.dialog_node } };
      return fallback;
    }
  };
  const conditionText = n.conditions?.trim();
  const condition = conditionText
    ? guard<Evaluate>(`Condition "${conditionText}"`, () => false, () => compileExpression(conditionText))
    : undefined;
  const context = Object.entries(n.context ?? {}).map(([k, v]) => [k, guard<Evaluate>(`Context variable "${k}"`, () => undefined, () => compileValue(v))] as [string, Evaluate]);
  const output = n.output ?? {};
  const generic = guard<CompiledGeneric[]>('Output', [], () => compileOutput(output));
  const extraOutput = Object.entries(output)
    .filter(([k]) => k !== 'generic' && k !== 'text')
    .map(([k, v]) => [k, guard<Evaluate>(`Output "${k}"`, () => undefined, () => compileValue(v))] as [string, Evaluate]);
  return {
    id: n.dialog_node,
    type: n.type ?? 'standard',
    raw: n,
    parent: undefined,
    condition,
    context,
    generic,
    extraOutput,
    nextStep: n.next_step ?? legacyJump(n.go_to),
    problem,
    variable: n.variable?.replace(/^\$/, ''),
    children: [],
    responseConditions: [],
    slots: [],
    handlers: new Map(),
    siblings: [],
  };
}

/** `go_to` as the next_step that replaced it, with the same selectors. */
function legacyJump(goTo: DialogNode['go_to']): NextStep | undefined {
  if (!goTo || typeof goTo.dialog_node !== 'string') return undefined;
  return { behavior: 'jump_to', dialog_node: goTo.dialog_node, selector: goTo.selector };
}

function policyOf(p: unknown): SelectionPolicy {
  return p === 'random' || p === 'multiline' ? p : 'sequential';
}

/** `output.generic` when present; otherwise the legacy `output.text` (a string or {values, selection_policy}). */
function compileOutput(output: Record<string, unknown>): CompiledGeneric[] {
  if (Array.isArray(output.generic)) {
    return output.generic.flatMap((item: Record<string, unknown>): CompiledGeneric[] => {
      if (item.response_type !== 'text') return [{ kind: 'other', item: compileValue(item) }];
      const values = (Array.isArray(item.values) ? item.values : [])
        .map((v: { text?: unknown }) => (typeof v?.text === 'string' ? v.text : ''))
        .filter((t: string) => t !== '');
      return values.length === 0 ? [] : [{
        kind: 'text',
        values: values.map(compileTemplate),
        policy: policyOf(item.selection_policy),
        delimiter: typeof item.delimiter === 'string' ? item.delimiter : '\n',
      }];
    });
  }
  const text = output.text;
  if (typeof text === 'string') return text === '' ? [] : [{ kind: 'text', values: [compileTemplate(text)], policy: 'sequential', delimiter: '\n' }];
  if (text && typeof text === 'object' && Array.isArray((text as { values?: unknown }).values)) {
    const t = text as { values: unknown[]; selection_policy?: unknown };
    const values = t.values.filter((v): v is string => typeof v === 'string' && v !== '');
    return values.length === 0 ? [] : [{ kind: 'text', values: values.map(compileTemplate), policy: policyOf(t.selection_policy), delimiter: '\n' }];
  }
  return [];
}
