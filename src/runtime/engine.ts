/**
 * One `/message` turn: classify (injected), extract entities, walk the dialog from where the
 * conversation's dialog stack left it, and assemble the v1 response. Pure apart from the injected
 * clock, random source and id generator; all state travels in `context.system`.
 */
import { randomUUID } from 'node:crypto';
import { compileDialog, type CompiledDialog, type CompiledGeneric, type CompiledNode } from './dialog.ts';
import { canEnter, childrenMode, digressIn, isAnythingElse, slotsMode, type DigressMode } from './digression.ts';
import { INTENT_THRESHOLD, type Scope } from './expression.ts';
import { ExpressionError, toJson, truthy } from './values.ts';
import { formatWallClock, wallClock } from './time-zone.ts';
import type {
  GenericItem, LogMessage, MessageContext, MessageRequest, MessageResponse, NextStep, Nlu, RuntimeEntity, RuntimeIntent, Workspace,
} from './types.ts';

export interface RespondOptions {
  /** The request's `version` date (YYYY-MM-DD); decides e.g. whether `output.text` is returned. */
  version: string;
  nodesVisitedDetails?: boolean;
  now?: Date;
  random?: () => number;
  newConversationId?: () => string;
}

/** From this version on, output.text is gone and everything is in output.generic (RN). */
const NO_OUTPUT_TEXT = '2021-11-27';
/** Before this version /message output had no generic[] (rich responses came with it; RN). */
const OUTPUT_GENERIC = '2018-07-10';
/** From this version on, nodes_visited lists response conditions and event handlers too (RN). */
const VISITS_ALL_NODES = '2018-02-16';
/** Fires per turn before the dialog is judged to loop (jump_to cycles). */
const MAX_STEPS = 50;
/**
 * Entries of a client's dialog_stack kept, from the top. Returning from digressions walks the
 * stack entry by entry, so its length bounds a turn's work; real chains are a few entries deep.
 */
const MAX_STACK = 50;
/** How many intents a response lists with alternate_intents: true (DOC-EXPR: the top 10, whatever their scores). */
export const ALTERNATE_INTENTS = 10;

/** The intents /message finds in `text` when the request supplies none: blank text has none. */
export function classifyInput(nlu: Nlu, text: string): RuntimeIntent[] {
  return text.trim() === '' ? [] : nlu.classify(text);
}

/**
 * The top entry is where the dialog waits; any below it are nodes a digression left, each to be
 * returned to (its question asked again) when the branch above it completes.
 */
interface StackEntry {
  dialog_node: string;
  state?: 'in_progress' | 'jumped';
  slot_in_focus?: string;
}

type OutputCounters = Record<string, Record<string, number>>;

/**
 * What the focused slot's nomatch (Not found) handler did: answered in place of asking again, or
 * moved on to the next slot (next_step skip_slot).
 */
type NomatchOutcome = 'answered' | 'moved_on';

const compiledCache = new WeakMap<Workspace, CompiledDialog>();

export function respond(dialog: CompiledDialog | Workspace, request: MessageRequest, nlu: Nlu, options: RespondOptions): MessageResponse {
  const compiled = isCompiled(dialog) ? dialog : cachedCompile(dialog);
  return new Turn(compiled, request, nlu, options).run();
}

function isCompiled(d: CompiledDialog | Workspace): d is CompiledDialog {
  return d instanceof Object && 'roots' in d && d.nodes instanceof Map;
}

function cachedCompile(ws: Workspace): CompiledDialog {
  let c = compiledCache.get(ws);
  if (!c) compiledCache.set(ws, (c = compileDialog(ws)));
  return c;
}

class Turn {
  private readonly scope: Scope;
  private readonly system: Record<string, unknown>;
  private readonly counters: OutputCounters;
  private stack: StackEntry[];
  private readonly generic: GenericItem[] = [];
  private readonly texts: string[] = [];
  private readonly extraOutput: Record<string, unknown> = {};
  private readonly visited: CompiledNode[] = [];
  private readonly logs: LogMessage[] = [];
  private readonly actions: unknown[] = [];
  private steps = 0;
  /** What slots see of the entities (`slotView`), worked out at the first slot of the turn. */
  private slotScope: Pick<Scope, 'entities' | 'entityIndex'> | undefined;
  private readonly allIntents: RuntimeIntent[];
  private readonly conversationId: string;

  constructor(
    private readonly dialog: CompiledDialog,
    private readonly request: MessageRequest,
    nlu: Nlu,
    private readonly options: RespondOptions,
  ) {
    const text = request.input?.text ?? '';
    const ctx: MessageContext = request.context ?? {};
    const { conversation_id, system, metadata: _metadata, ...variables } = ctx;
    this.conversationId = conversation_id ?? (options.newConversationId ?? randomUUID)();
    this.system = this.readSystem(system);
    this.counters = this.readCounters(this.system._node_output_map);
    this.stack = this.readStack(this.system.dialog_stack);
    this.allIntents = request.intents
      ? request.intents.map((i) => ({ intent: i.intent, confidence: i.confidence ?? 1 }))
      : classifyInput(nlu, text);
    const instant = options.now ?? new Date();
    const now = this.userClock(instant, variables.timezone);
    const entities: RuntimeEntity[] = request.entities
      ? request.entities.map((e) => ({ ...e, confidence: e.confidence ?? 1 }) as RuntimeEntity)
      : this.dialog.entities.extract(text, { now, warn: (m) => this.logs.push(m) });
    this.scope = {
      context: structuredClone(variables),
      input: { ...request.input, text },
      intents: this.allIntents,
      entities,
      entityIndex: indexEntities(entities),
      conversationStart: this.system.initialized !== true,
      slotInFocus: false,
      now: formatWallClock(now),
      instant,
      output: () => ({ ...this.extraOutput, generic: this.generic, text: this.texts }),
    };
  }

  /** The time in the user's `$timezone` when the client gave a known one, else the server's. */
  private userClock(instant: Date, zone: unknown): Date {
    if (zone === undefined || zone === null || zone === '') return instant;
    const local = typeof zone === 'string' ? wallClock(instant, zone) : undefined;
    if (local) return local;
    this.logs.push({ level: 'warn', code: 'dialog.timezone_invalid', msg: `context.timezone ${JSON.stringify(zone)} is not an IANA time zone name (such as "America/New_York"); dates and now() use the server's time zone.` });
    return instant;
  }

  /**
   * The stack as the client sent it back, which nothing guarantees is the one this store returned:
   * entries that are not objects naming a node by a string are left out, and only the top
   * MAX_STACK kept, with a warning. Nothing left starts the dialog from the root. Entries naming
   * nodes deleted since are kept: a deleted top evaluates the root level, a deleted origin is
   * passed over on the way back (`exitBranch`).
   */
  /**
   * `context.system` as the client sent it back: the runtime writes into it, so anything but an
   * object (a client's mistake or tampering) is dropped with a warning rather than a 500.
   */
  private readSystem(sent: unknown): Record<string, unknown> {
    if (sent === undefined || sent === null) return {};
    if (isObject(sent)) return structuredClone(sent);
    this.logs.push({ level: 'warn', code: 'dialog.context_invalid', msg: 'context.system is not an object; it was left out and the dialog starts from the root.' });
    return {};
  }

  /** Which variation each node's responses gave last: node id → item index → variation, whole numbers only. */
  private readCounters(sent: unknown): OutputCounters {
    const out: OutputCounters = {};
    if (sent === undefined || sent === null) return out;
    let dropped = !isObject(sent);
    for (const [node, items] of isObject(sent) ? Object.entries(sent) : []) {
      if (!isObject(items)) { dropped = true; continue; }
      const kept: Record<string, number> = {};
      for (const [i, v] of Object.entries(items)) {
        if (typeof v === 'number' && Number.isInteger(v) && v >= 0) kept[i] = v;
        else dropped = true;
      }
      out[node] = kept;
    }
    if (dropped) this.logs.push({ level: 'warn', code: 'dialog.context_invalid', msg: 'context.system._node_output_map held values the runtime does not write; they were left out (response variations start over).' });
    return out;
  }

  private readStack(sent: unknown): StackEntry[] {
    if (sent === undefined) return [{ dialog_node: 'root' }];
    const entries = Array.isArray(sent) ? sent : [];
    const kept = entries.filter((e): e is StackEntry => isObject(e) && typeof e.dialog_node === 'string').slice(-MAX_STACK);
    if (!Array.isArray(sent)) {
      this.logs.push({ level: 'warn', code: 'dialog.stack_invalid', msg: 'context.system.dialog_stack is not a list; the dialog starts from the root.' });
    } else if (kept.length < entries.length) {
      this.logs.push({ level: 'warn', code: 'dialog.stack_invalid', msg: `context.system.dialog_stack had ${entries.length - kept.length} of its ${entries.length} entries left out: malformed (not an object with a string dialog_node) or below the top ${MAX_STACK}.` });
    }
    return kept.length > 0 ? kept : [{ dialog_node: 'root' }];
  }

  run(): MessageResponse {
    const top = this.stack[this.stack.length - 1]!;
    const node = this.dialog.nodes.get(top.dialog_node);
    let fired: boolean;
    if (node && top.state === 'in_progress' && node.type === 'frame') {
      this.visit(node);
      this.processFrame(node, top.slot_in_focus, false);
      fired = true;
    } else if (node && top.state === 'jumped') {
      fired = this.evaluateFrom(node);
    } else if (node) {
      // Children of the node that waited for input first; when none matches, the root level.
      const mode = childrenMode(node);
      fired = this.evaluate(node.children) || this.digress(mode);
      if (!fired && this.onlyReturning(mode)) {
        // Leaving for good is not allowed here, so the node asks again, as slots that allow no
        // digression do (docs: nodes that do not return, a root anything_else among them, "are
        // excluded from being considered as digression targets"; allow_returning is there to keep
        // users from permanently leaving). Falling to the root answered nothing at all.
        this.visit(node);
        this.sayAgain(node);
        fired = true;
      }
    } else {
      fired = this.evaluate(this.dialog.roots);
    }
    if (!fired) {
      this.logs.push({ level: 'warn', code: 'dialog.no_match', msg: 'No dialog node matched the input; add a node with the anything_else condition.' });
      this.exitBranch();
    }
    return this.response();
  }

  /** Fires the first node of `list` (from `start`) whose condition holds. */
  private evaluate(list: CompiledNode[], start = 0): boolean {
    const n = this.match(list, start);
    if (n) this.fire(n);
    return n !== undefined;
  }

  /** The first node of `list` (from `start`) that `accept`s and whose condition holds; folders open in place. */
  private match(list: CompiledNode[], start: number, accept?: (n: CompiledNode) => boolean): CompiledNode | undefined {
    for (let i = start; i < list.length; i++) {
      const n = list[i]!;
      if (n.type !== 'folder' && accept && !accept(n)) continue;
      if (!this.holds(n)) continue;
      if (n.type !== 'folder') return n;
      const inside = this.match(n.children, 0, accept);
      if (inside) return inside;
    }
    return undefined;
  }

  /**
   * Leaves the node waiting for input for a root-level node, as its digression setting allows.
   * When the target returns, the waiting entry stays on the stack under the target's branch, and
   * `exitBranch` comes back to it. Without such a target the branch is left, as before digressions.
   * A target whose branch already waits on the stack is no digression but that flow taken up again
   * (`resume`): nothing is pushed, so a target that ends without waiting does not return into its
   * own branch. From a slot, a root anything_else is no target (`isAnythingElse`).
   */
  private digress(mode: DigressMode, fromSlot = false): boolean {
    const onlyReturning = this.onlyReturning(mode);
    const target = this.match(this.dialog.roots, 0, (n) => canEnter(n, onlyReturning) && !(fromSlot && isAnythingElse(n)));
    if (!target) return false;
    if (!this.resume(target) && mode !== 'never_return' && digressIn(target) === 'returns') this.stack.push({ dialog_node: 'root' });
    this.fire(target);
    return true;
  }

  /** Whether only nodes that return may be digressed to: so set, or a digression waits to return. */
  private onlyReturning(mode: DigressMode): boolean {
    return mode === 'returning' || this.stack.length > 1;
  }

  /**
   * A jump's target with the condition checked: the target, then its later siblings, then (DOC-DLG's
   * "basic fallback") the root level. A target at the root level has just been tried with the
   * roots after it; trying the ones before it again would only re-fire the node that jumped. The
   * fallback passes over the branches visited this turn, as after skip_user_input: the root that
   * jumped still matches, and firing it again jumped again, until MAX_STEPS.
   */
  private evaluateFrom(target: CompiledNode): boolean {
    const list = target.siblings;
    if (this.evaluate(list, Math.max(0, list.indexOf(target)))) return true;
    return list !== this.dialog.roots && this.fallBackToRoots();
  }

  /**
   * No child of a node that skipped user input matched: the root level is evaluated with the same
   * input (docs: dialog-build "Dialog flow", the jump-to "basic fallback"), ending at anything_else.
   * Roots whose branch was visited this turn are passed over: the root that skipped would fire
   * again, and again, until MAX_STEPS, and the root of a branch a jump landed in would run that
   * branch a second time (its answers twice).
   */
  private fallBackToRoots(): boolean {
    const visitedBranches = new Set(this.visited.map(branchRoot));
    const n = this.match(this.dialog.roots, 0, (r) => !visitedBranches.has(r));
    if (n) this.fire(n);
    return n !== undefined;
  }

  /** A node without a condition never fires by itself, but folders, handlers and responses apply. */
  private holds(n: CompiledNode): boolean {
    this.report(n);
    if (!n.condition) return n.type !== 'standard' && n.type !== 'frame' && n.type !== 'slot';
    try {
      return truthy(n.condition(this.scope));
    } catch (err) {
      if (!(err instanceof ExpressionError)) throw err;
      this.logs.push({ level: 'warn', code: 'dialog.condition_error', msg: `Condition of dialog node "${n.id}" could not be evaluated: ${err.message}.`, source: { dialog_node: n.id } });
      return false;
    }
  }

  /** A node's problem, once per turn however often the node is evaluated. */
  private report(n: CompiledNode): void {
    if (n.problem && !this.logs.includes(n.problem)) this.logs.push(n.problem);
  }

  private fire(n: CompiledNode): void {
    if (++this.steps > MAX_STEPS) {
      this.logs.push({ level: 'error', code: 'dialog.loop', msg: `Dialog stopped after ${MAX_STEPS} nodes in one turn at "${n.id}"; check jump_to targets for a cycle.` });
      this.exitBranch();
      return;
    }
    this.visit(n);
    if (n.type === 'frame') {
      this.applyContext(n);
      this.waitAt({ dialog_node: n.id, state: 'in_progress' });
      this.processFrame(n, undefined, true);
      return;
    }
    this.next(n, this.respondWith(n));
  }

  /**
   * Context, then output, of the node or of its first response condition that holds. Returns the
   * next step: a response condition's own next_step replaces the node's (DOC-DLG: the node's
   * jump is then never processed).
   */
  private respondWith(n: CompiledNode): NextStep | undefined {
    this.applyContext(n);
    const rc = n.responseConditions.find((r) => this.holds(r));
    if (rc) {
      this.visit(rc);
      this.applyContext(rc);
      this.emit(rc);
    } else {
      this.emit(n);
    }
    if (n.raw.actions) this.actions.push(...n.raw.actions);
    return rc?.nextStep ?? n.nextStep;
  }

  /** What happens after a node responded: the next step, or waiting among its children. */
  private next(n: CompiledNode, step: NextStep | undefined): void {
    if (step?.behavior === 'jump_to' && step.dialog_node !== undefined) {
      const target = this.dialog.nodes.get(step.dialog_node);
      if (!target) {
        this.logs.push({ level: 'error', code: 'dialog.jump_target_missing', msg: `Dialog node "${n.id}" jumps to "${step.dialog_node}", which does not exist.` });
        this.exitBranch();
      } else if (step.selector === 'user_input') {
        this.waitAt({ dialog_node: target.id, state: 'jumped' });
      } else if (step.selector === 'body' || step.selector === 'client') {
        this.fire(target);
      } else if (!this.evaluateFrom(target)) {
        this.exitBranch();
      }
      return;
    }
    if (step?.behavior === 'skip_user_input') {
      if (!this.evaluate(n.children) && !this.fallBackToRoots()) this.exitBranch();
      return;
    }
    if (n.children.length > 0) {
      this.waitAt({ dialog_node: n.id });
    } else {
      this.exitBranch();
    }
  }

  /**
   * The node the dialog now waits at, in place of the top of the stack; in its branch's place
   * when that branch already waits lower down (`resume`), however the dialog got back into it:
   * the user asking its question again, a digression's node jumping into it, the root fallback or
   * a user_input jump landing in it.
   */
  private waitAt(entry: StackEntry): void {
    const branch = branchRoot(this.dialog.nodes.get(entry.dialog_node));
    if (branch) this.resume(branch);
    this.stack[this.stack.length - 1] = entry;
    this.system.branch_exited = false;
  }

  /**
   * Cuts the stack back to the lowest entry in `branch` (a root-level node's), if any, and says
   * whether there was one. Re-entering a branch that waits is that flow taken up again, not a new
   * one: the docs return to an interrupted node once the digression's branch completes, and a flow
   * cannot interrupt itself. What waited above the entry is dropped. Stacking the branch again left
   * one entry per re-entry, each asking its question again (and running its flow again) later.
   */
  private resume(branch: CompiledNode): boolean {
    const open = this.stack.findIndex((e) => inBranch(this.dialog.nodes.get(e.dialog_node), branch));
    if (open >= 0) this.stack.length = open + 1;
    return open >= 0;
  }

  private exitBranch(): void {
    this.system.branch_exited = true;
    this.system.branch_exited_reason = 'completed';
    // Back to the node the innermost digression left; one deleted since has nothing to return to,
    // and the next one down is tried. A loop, as a client's stack can hold many such entries.
    while (this.stack.length > 1) {
      this.stack.pop();
      const origin = this.stack[this.stack.length - 1]!;
      const node = this.dialog.nodes.get(origin.dialog_node);
      if (node) {
        this.returnFromDigression(node, origin);
        return;
      }
    }
    this.stack = [{ dialog_node: 'root' }];
  }

  /**
   * Back at the node a digression left, in the same turn: a frame filling slots asks for its next
   * empty one (or, all filled meanwhile, answers); a node waiting for its children says its
   * response again (docs: "the same text response is displayed a second time"). Either way
   * `returning_from_digression` is true while it is said.
   */
  private returnFromDigression(node: CompiledNode, origin: StackEntry): void {
    this.scope.returningFromDigression = true;
    this.visit(node);
    if (origin.state === 'in_progress' && node.type === 'frame') {
      // The API accepts this handler, but no document says what it does; say it is not used.
      if (node.handlers.has('digression_return_prompt')) {
        this.logs.push({ level: 'warn', code: 'dialog.digression_return_prompt_unsupported', msg: `Dialog node "${node.id}" has a digression_return_prompt handler, which this store does not run; the slot's own prompt is asked again.`, source: { dialog_node: node.id } });
      }
      this.promptOrFinish(node);
    } else {
      this.sayAgain(node);
    }
    this.scope.returningFromDigression = false;
  }

  /** A node waiting for its children says its response again, and waits on. */
  private sayAgain(node: CompiledNode): void {
    const rc = node.responseConditions.find((r) => this.holds(r));
    if (rc) this.visit(rc);
    this.emit(rc ?? node);
    this.waitAt({ dialog_node: node.id });
  }

  /**
   * One turn of a frame: its handlers, then filling slots from the input and their `filled`
   * handlers; for input that did none of this, a digression if allowed, else the focused slot's
   * `nomatch` handler; then either the prompt of the next empty required slot or, when none is
   * left, the frame's own response.
   */
  private processFrame(frame: CompiledNode, focusId: string | undefined, firstTurn: boolean): void {
    let done = false;
    let handled = false;
    if (!firstTurn) {
      for (const h of frame.handlers.get('generic') ?? []) {
        if (!this.holds(h)) continue;
        this.handle(h);
        handled = true;
        done = h.nextStep?.behavior === 'skip_all_slots';
        break;
      }
    }
    const focus = frame.slots.find((s) => s.id === focusId);
    // Every slot, filled or not: until the user leaves the node, a new value replaces the old
    // (docs: dialog-slots, "Replacing a slot context variable value").
    const filled: Array<{ slot: CompiledNode; previous: unknown }> = [];
    if (!done) {
      for (const slot of frame.slots) {
        const previous = this.slotValue(slot);
        this.scope.slotInFocus = slot === focus;
        if (this.fillSlot(slot)) filled.push({ slot, previous });
      }
      this.scope.slotInFocus = false;
    }
    for (const { slot, previous } of filled) {
      if (done) break;
      this.visit(slot);
      this.scope.event = { previous_value: previous ?? null, current_value: this.slotValue(slot) ?? null };
      const h = (slot.handlers.get('filled') ?? []).find((x) => this.holds(x));
      if (h) this.handle(h);
      this.scope.event = undefined;
      const behavior = h?.nextStep?.behavior;
      if (behavior === 'skip_all_slots') done = true;
      if (behavior === 'reprompt') this.setVariable(slot, undefined);
    }
    // Input the frame did nothing with may digress, before the focused slot's nomatch handler: the
    // docs check the root nodes (when the frame allows digressions) before "Not found", which
    // shows only if "no top-level dialog nodes are triggered as a digression".
    const mode = slotsMode(frame);
    if (!firstTurn && mode && !handled && filled.length === 0 && this.digress(mode, true)) return;
    let nomatch: NomatchOutcome | undefined;
    if (!done && focus && !handled && !filled.some((f) => f.slot === focus)) {
      const h = (focus.handlers.get('nomatch') ?? []).find((x) => this.holds(x));
      if (h) {
        this.handle(h);
        const behavior = h.nextStep?.behavior;
        nomatch = behavior === 'skip_slot' ? 'moved_on' : 'answered';
        if (behavior === 'skip_all_slots') done = true;
      }
    }
    if (done) {
      this.next(frame, this.respondWith(frame));
      return;
    }
    this.promptOrFinish(frame, focus, nomatch);
  }

  /**
   * Asks for the frame's next empty slot, or answers with the frame's response when none is left.
   * A nomatch handler that moved on (skip_slot) passes over the focused slot this turn.
   */
  private promptOrFinish(frame: CompiledNode, focus?: CompiledNode, nomatch?: NomatchOutcome): void {
    const skipped = nomatch === 'moved_on' ? focus : undefined;
    const open = frame.slots.find((s) => s !== skipped && isEmpty(this.slotValue(s)) && this.prompt(s) !== undefined);
    if (!open) {
      this.next(frame, this.respondWith(frame));
      return;
    }
    // A nomatch handler's answer stands in for asking the same slot again.
    if (!(open === focus && nomatch === 'answered')) {
      const prompt = this.prompt(open)!;
      this.visit(prompt);
      this.emit(prompt);
    }
    this.waitAt({ dialog_node: frame.id, state: 'in_progress', slot_in_focus: open.id });
  }

  private handle(h: CompiledNode): void {
    this.visit(h);
    this.applyContext(h);
    this.emit(h);
  }

  private slotValue(slot: CompiledNode): unknown {
    return slot.variable === undefined ? undefined : this.scope.context[slot.variable];
  }

  private setVariable(slot: CompiledNode, value: unknown): void {
    if (slot.variable === undefined) return;
    if (value === undefined) delete this.scope.context[slot.variable];
    else this.scope.context[slot.variable] = value;
  }

  /**
   * The slot's check: its `input` handler (or the slot's own condition) and the context it sets,
   * seeing the entities as slots do (`slotView`).
   */
  private fillSlot(slot: CompiledNode): boolean {
    const { entities, entityIndex } = this.scope;
    this.slotScope ??= slotView(entities, entityIndex);
    Object.assign(this.scope, this.slotScope);
    try {
      return this.checkSlot(slot);
    } finally {
      Object.assign(this.scope, { entities, entityIndex });
    }
  }

  private checkSlot(slot: CompiledNode): boolean {
    const check = slot.handlers.get('input')?.[0] ?? slot;
    this.report(check);
    if (!check.condition) return false;
    let value: unknown;
    try {
      value = check.condition(this.scope);
    } catch (err) {
      if (!(err instanceof ExpressionError)) throw err;
      return false;
    }
    if (!truthy(value)) return false;
    if (check.context.length > 0) this.applyContext(check);
    else this.setVariable(slot, toJson(value));
    return !isEmpty(this.slotValue(slot));
  }

  /** The node whose output asks for the slot: its `focus` handler, else the slot itself. */
  private prompt(slot: CompiledNode): CompiledNode | undefined {
    const focus = (slot.handlers.get('focus') ?? []).find((h) => h.generic.length > 0);
    if (focus) return focus;
    return slot.generic.length > 0 ? slot : undefined;
  }

  private applyContext(n: CompiledNode): void {
    for (const [key, evaluate] of n.context) {
      if (key === 'system' || key === 'conversation_id') continue;
      try {
        const value = evaluate(this.scope);
        // null deletes: responses leave out null-valued properties (RN 2018-02-16).
        if (value === null || value === undefined) delete this.scope.context[key];
        else this.scope.context[key] = merge(this.scope.context[key], value);
      } catch (err) {
        if (!(err instanceof ExpressionError)) throw err;
        this.logs.push({ level: 'warn', code: 'dialog.context_error', msg: `Context variable "${key}" of dialog node "${n.id}" could not be evaluated: ${err.message}.`, source: { dialog_node: n.id } });
      }
    }
  }

  private emit(n: CompiledNode): void {
    n.generic.forEach((g, i) => this.outputGuarded(n, () => this.emitItem(n, g, i)));
    // A custom key (an `action` object for the client) that fails is left out, like a failed item.
    for (const [key, evaluate] of n.extraOutput) this.outputGuarded(n, () => { this.extraOutput[key] = evaluate(this.scope); });
  }

  /** Runs one part of a node's output; an expression that fails is the author's mistake, logged. */
  private outputGuarded(n: CompiledNode, part: () => void): void {
    try {
      part();
    } catch (err) {
      if (!(err instanceof ExpressionError)) throw err;
      this.logs.push({ level: 'warn', code: 'dialog.output_error', msg: `Output of dialog node "${n.id}" could not be evaluated: ${err.message}.`, source: { dialog_node: n.id } });
    }
  }

  private emitItem(n: CompiledNode, g: CompiledGeneric, i: number): void {
    if (g.kind === 'other') {
      this.generic.push(g.item(this.scope) as GenericItem);
      return;
    }
    if (g.policy === 'multiline') {
      const lines = g.values.map((v) => String(v(this.scope)));
      this.generic.push({ response_type: 'text', text: lines.join(g.delimiter) });
      this.texts.push(...lines);
      return;
    }
    const seen = (this.counters[n.id] ??= {});
    const last = seen[i];
    let pick: number;
    if (g.policy === 'random' && g.values.length > 1) {
      // Never the same variation twice in a row.
      const choices = last === undefined ? g.values.length : g.values.length - 1;
      pick = Math.floor((this.options.random ?? Math.random)() * choices);
      if (last !== undefined && pick >= last) pick++;
    } else {
      pick = last === undefined ? 0 : (last + 1) % g.values.length;
    }
    seen[i] = pick;
    const text = String(g.values[pick]!(this.scope));
    this.generic.push({ response_type: 'text', text });
    this.texts.push(text);
  }

  private visit(n: CompiledNode): void {
    if (this.visited.at(-1) === n) return;
    if ((n.type === 'response_condition' || n.type === 'event_handler') && this.options.version < VISITS_ALL_NODES) return;
    this.visited.push(n);
  }

  private response(): MessageResponse {
    const turns = typeof this.system.dialog_turn_counter === 'number' ? this.system.dialog_turn_counter : 0;
    const requests = typeof this.system.dialog_request_counter === 'number' ? this.system.dialog_request_counter : 0;
    const userId = this.request.user_id ?? this.request.context?.metadata?.user_id ?? this.conversationId;
    const system: Record<string, unknown> = {
      ...this.system,
      initialized: true,
      dialog_stack: this.stack,
      dialog_turn_counter: turns + 1,
      dialog_request_counter: requests + 1,
      _node_output_map: this.counters,
    };
    if (system.branch_exited !== true) {
      delete system.branch_exited;
      delete system.branch_exited_reason;
    }
    const output: MessageResponse['output'] = {
      ...this.extraOutput,
      ...(this.options.version >= OUTPUT_GENERIC ? { generic: this.generic } : {}),
      nodes_visited: this.visited.map((n) => n.id),
      log_messages: this.logs,
    };
    if (this.options.version < NO_OUTPUT_TEXT) output.text = this.texts;
    if (this.options.nodesVisitedDetails) {
      output.nodes_visited_details = this.visited.map((n) => ({
        dialog_node: n.id,
        ...(n.raw.title !== undefined ? { title: n.raw.title } : {}),
        ...(n.raw.conditions !== undefined ? { conditions: n.raw.conditions } : {}),
      }));
    }
    const alternate = this.request.alternate_intents === true;
    const response: MessageResponse = {
      input: { ...this.request.input, text: this.scope.input.text },
      // Without alternates, only a top intent confident enough to count (Watson's expression-language
      // docs: "only intents with a confidence above 0.2"): an input about nothing the skill knows has none.
      intents: alternate ? this.allIntents.slice(0, ALTERNATE_INTENTS) : this.allIntents.slice(0, 1).filter((i) => i.confidence >= INTENT_THRESHOLD),
      entities: this.scope.entities,
      alternate_intents: alternate,
      context: {
        conversation_id: this.conversationId,
        ...this.scope.context,
        system,
        metadata: { ...this.request.context?.metadata, user_id: userId },
      },
      output,
      user_id: userId,
    };
    if (this.actions.length > 0) response.actions = this.actions;
    return response;
  }
}

/**
 * A node's value for a context variable: an object is merged into the object already there, its
 * properties added or overwriting; any other value replaces it (docs: dialog-runtime-context,
 * "Updating a complex JSON object"). banking-chatbot asks for a start date, then an end date,
 * each node setting its part of the one `action` object its application reads.
 */
function merge(previous: unknown, value: unknown): unknown {
  return isObject(previous) && isObject(value) ? { ...previous, ...value } : value;
}

function indexEntities(entities: RuntimeEntity[]): Map<string, RuntimeEntity[]> {
  const index = new Map<string, RuntimeEntity[]>();
  for (const e of entities) {
    const list = index.get(e.entity);
    if (list) list.push(e);
    else index.set(e.entity, [e]);
  }
  return index;
}

/**
 * The entities a slot may take: none that overlaps a longer one (Watson's slots take the entity
 * with the longer span), so the 2 of "May 2" fills a date slot and no number slot. The
 * response and node conditions still see every entity. Quadratic, but a turn finds a handful.
 */
function slotView(entities: RuntimeEntity[], index: Map<string, RuntimeEntity[]>): Pick<Scope, 'entities' | 'entityIndex'> {
  const kept = entities.filter((e) => !entities.some((o) => span(o) > span(e) && overlap(o, e)));
  return kept.length === entities.length ? { entities, entityIndex: index } : { entities: kept, entityIndex: indexEntities(kept) };
}

/** An entity's length; a client's entity may come without a location, and then overlaps nothing. */
function span(e: RuntimeEntity): number {
  return e.location ? e.location[1] - e.location[0] : 0;
}

function overlap(a: RuntimeEntity, b: RuntimeEntity): boolean {
  return a.location !== undefined && b.location !== undefined && a.location[0] < b.location[1] && b.location[0] < a.location[1];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Whether `node` is `root` or one of the nodes under it. */
function inBranch(node: CompiledNode | undefined, root: CompiledNode): boolean {
  for (let at = node; at; at = at.parent) if (at === root) return true;
  return false;
}

/** The root-level node whose branch holds `node`: its topmost ancestor that is not a folder. */
function branchRoot(node: CompiledNode | undefined): CompiledNode | undefined {
  let root: CompiledNode | undefined;
  for (let at = node; at; at = at.parent) if (at.type !== 'folder') root = at;
  return root;
}

function isEmpty(v: unknown): boolean {
  return v === undefined || v === null || v === '';
}
