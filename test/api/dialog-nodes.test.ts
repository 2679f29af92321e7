/**
 * The dialog tree through the ibm-watson SDK: null in a node update removes the field (so a node
 * can move to the root or to first position), inserting or moving a node re-links the sibling
 * that followed its new position, and trees that break WA's rules are refused with a 400 naming
 * the node.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import AssistantV1 from 'ibm-watson/assistant/v1.js';
import { sdkRejects as rejects, sdkClient } from '../support/api.ts';
import { startTestStore, type TestStore } from '../support/store.ts';


type Node = AssistantV1.DialogNode;

/**
 * The tree as `parent: [children in sibling order]` ('' for the root), asserting on the way that
 * each parent has one first child and that no two siblings share a previous_sibling.
 */
function outline(nodes: Node[]): Record<string, string[]> {
  const byParent = new Map<string, Node[]>();
  for (const n of nodes) byParent.set(n.parent ?? '', [...(byParent.get(n.parent ?? '') ?? []), n]);
  const out: Record<string, string[]> = {};
  for (const [parent, children] of byParent) {
    const firsts = children.filter((c) => c.previous_sibling === undefined);
    assert.equal(firsts.length, 1, `one first child under '${parent}': ${firsts.map((f) => f.dialog_node).join(', ')}`);
    const order = [firsts[0]!.dialog_node];
    for (let next = children.find((c) => c.previous_sibling === order.at(-1)); next; next = children.find((c) => c.previous_sibling === order.at(-1))) {
      assert.equal(children.filter((c) => c.previous_sibling === order.at(-1)).length, 1, `one follower of '${order.at(-1)}'`);
      order.push(next.dialog_node);
    }
    assert.equal(order.length, children.length, `every child of '${parent}' is on its sibling chain`);
    out[parent] = order;
  }
  return out;
}

describe('dialog node tree through the SDK', () => {
  let s: TestStore;
  let a: AssistantV1;

  before(async () => {
    s = await startTestStore();
    const t = await s.tenant('frank');
    a = sdkClient(t.serviceUrl, t.token);
  });
  after(async () => { await s.close(); });

  const nodes = async (id: string): Promise<Node[]> => (await a.listDialogNodes({ workspaceId: id })).result.dialog_nodes;
  const tree = async (id: string) => outline(await nodes(id));
  const workspace = async (dialogNodes: Node[]) => (await a.createWorkspace({ name: 'tree', dialogNodes })).result.workspace_id!;
  // The SDK types say string, but it sends null as given, which is how a field is removed.
  const NULL = null as unknown as string;

  test('null in an update removes the field: a child moves to the root, a node to first position', async () => {
    const id = await workspace([
      { dialog_node: 'a', conditions: '#hello', next_step: { behavior: 'jump_to', dialog_node: 'b', selector: 'body' } },
      { dialog_node: 'b', previous_sibling: 'a' },
      { dialog_node: 'c', previous_sibling: 'b' },
      { dialog_node: 'x', parent: 'a' },
    ]);
    const moved = await a.updateDialogNode({ workspaceId: id, dialogNode: 'x', newParent: NULL });
    assert.equal(moved.result.parent, undefined);
    assert.deepEqual(await tree(id), { '': ['x', 'a', 'b', 'c'] });
    await a.updateDialogNode({ workspaceId: id, dialogNode: 'c', newPreviousSibling: NULL });
    assert.deepEqual(await tree(id), { '': ['c', 'x', 'a', 'b'] });
    const cleared = await a.updateDialogNode({ workspaceId: id, dialogNode: 'a', newConditions: NULL, newNextStep: NULL as never, newTitle: 'kept' });
    assert.deepEqual(cleared.result, { dialog_node: 'a', previous_sibling: 'x', title: 'kept' });
  });

  test('a node created or moved after a sibling that has a follower takes its place; the follower follows it', async () => {
    const id = await workspace([{ dialog_node: 'a' }, { dialog_node: 'b', previous_sibling: 'a' }]);
    await a.createDialogNode({ workspaceId: id, dialogNode: 'n', previousSibling: 'a' });
    assert.deepEqual(await tree(id), { '': ['a', 'n', 'b'] });
    await a.createDialogNode({ workspaceId: id, dialogNode: 'first' });
    assert.deepEqual(await tree(id), { '': ['first', 'a', 'n', 'b'] });
    await a.updateDialogNode({ workspaceId: id, dialogNode: 'b', newPreviousSibling: 'first' });
    assert.deepEqual(await tree(id), { '': ['first', 'b', 'a', 'n'] });
    await a.updateDialogNode({ workspaceId: id, dialogNode: 'a', newParent: 'b', newPreviousSibling: NULL });
    assert.deepEqual(await tree(id), { '': ['first', 'b', 'n'], b: ['a'] });
    await a.createDialogNode({ workspaceId: id, dialogNode: 'child0', parent: 'b' });
    await a.updateDialogNode({ workspaceId: id, dialogNode: 'n', newDialogNode: 'n2', newParent: 'b', newPreviousSibling: 'child0' });
    assert.deepEqual(await tree(id), { '': ['first', 'b'], b: ['child0', 'n2', 'a'] });
  });

  test('self and cyclic parents, a previous sibling under another parent and jumps to a missing node are refused', async () => {
    const id = await workspace([
      { dialog_node: 'top' },
      { dialog_node: 'mid', parent: 'top' },
      { dialog_node: 'leaf', parent: 'mid' },
      { dialog_node: 'other', previous_sibling: 'top' },
    ]);
    const before = await nodes(id);
    const self = await rejects(a.updateDialogNode({ workspaceId: id, dialogNode: 'mid', newParent: 'mid' }), 400);
    assert.match(self.message, /Dialog node 'mid' is poorly defined: it is its own parent/);
    const selfSibling = await rejects(a.updateDialogNode({ workspaceId: id, dialogNode: 'other', newPreviousSibling: 'other' }), 400);
    assert.match(selfSibling.message, /Dialog node 'other' is poorly defined: it is its own previous sibling/);
    const cycle = await rejects(a.updateDialogNode({ workspaceId: id, dialogNode: 'top', newParent: 'leaf' }), 400);
    assert.match(cycle.message, /Dialog node '(top|mid|leaf)' is poorly defined: its parent chain loops back to it/);
    const cousin = await rejects(a.createDialogNode({ workspaceId: id, dialogNode: 'stray', previousSibling: 'mid' }), 400);
    assert.match(cousin.message, /Dialog node 'stray' is poorly defined: its previous_sibling 'mid' has another parent/);
    const jump = await rejects(a.createDialogNode({ workspaceId: id, dialogNode: 'j', nextStep: { behavior: 'jump_to', dialog_node: 'nowhere', selector: 'body' } }), 400);
    assert.match(jump.message, /Dialog node 'j' jumps to 'nowhere', which does not exist/);
    assert.equal(JSON.parse(jump.body).errors[0].path.endsWith('/next_step/dialog_node'), true);
    await rejects(a.updateDialogNode({ workspaceId: id, dialogNode: 'leaf', newNextStep: { behavior: 'jump_to', dialog_node: 'nowhere' } }), 400);
    assert.deepEqual(await nodes(id), before);

    // A node another node jumps to is not deleted (the jump would dangle: a failing turn, and an
    // export that cannot be imported again), nor is a node whose descendant is such a target.
    await a.createDialogNode({ workspaceId: id, dialogNode: 'target', previousSibling: 'other' });
    await a.createDialogNode({ workspaceId: id, dialogNode: 'deep', parent: 'target' });
    await a.createDialogNode({ workspaceId: id, dialogNode: 'jumper', previousSibling: 'target', nextStep: { behavior: 'jump_to', dialog_node: 'target', selector: 'body' } });
    await a.createDialogNode({ workspaceId: id, dialogNode: 'jumper2', previousSibling: 'jumper', nextStep: { behavior: 'jump_to', dialog_node: 'deep', selector: 'condition' } });
    const inUse = await rejects(a.deleteDialogNode({ workspaceId: id, dialogNode: 'target' }), 400);
    assert.match(inUse.message, /Dialog node 'target' cannot be deleted: dialog node 'jumper' jumps to 'target'/);
    await a.updateDialogNode({ workspaceId: id, dialogNode: 'jumper', newNextStep: { behavior: 'skip_user_input' } });
    const viaChild = await rejects(a.deleteDialogNode({ workspaceId: id, dialogNode: 'target' }), 400);
    assert.match(viaChild.message, /Dialog node 'target' \(with its descendant 'deep'\) cannot be deleted: dialog node 'jumper2' jumps to 'deep'/);
    assert.ok((await nodes(id)).some((n) => n.dialog_node === 'deep'), 'nothing was deleted');
    await a.deleteDialogNode({ workspaceId: id, dialogNode: 'jumper2' });
    assert.equal((await a.deleteDialogNode({ workspaceId: id, dialogNode: 'target' })).status, 200);
    assert.equal((await a.updateDialogNode({ workspaceId: id, dialogNode: 'top', newTitle: 'still editable' })).status, 200);
    const exported = (await a.getWorkspace({ workspaceId: id, _export: true })).result;
    assert.equal((await a.createWorkspace({ name: 'again', dialogNodes: exported.dialog_nodes })).status, 201, 'the export imports again');
  });

  test('a tree stored before the rules (two nodes in one place) stays editable; writing into the clash is refused', async () => {
    const id = await workspace([{ dialog_node: 'a' }, { dialog_node: 'b', previous_sibling: 'a' }, { dialog_node: 'x', previous_sibling: 'b' }]);
    // What single-node creates left behind before they re-linked siblings: c also follows a.
    await s.store.pool.query(`insert into dialog_nodes (workspace_id, dialog_node, node) values ($1, 'c', '{"previous_sibling": "a"}')`, [id]);
    assert.equal((await a.updateDialogNode({ workspaceId: id, dialogNode: 'x', newTitle: 'still editable' })).status, 200);
    assert.equal((await a.createDialogNode({ workspaceId: id, dialogNode: 'y', previousSibling: 'x' })).status, 201);
    const clash = await rejects(a.updateDialogNode({ workspaceId: id, dialogNode: 'c', newTitle: 'touch' }), 400);
    assert.match(clash.message, /Dialog node 'c' is poorly defined: 'b' already follows 'a'/);
  });

  test('errors about written nodes point into the request: the append body\'s index, or the single node\'s field', async () => {
    const id = await workspace([{ dialog_node: 'a' }, { dialog_node: 'b', previous_sibling: 'a' }]);
    const paths = (err: { body: string }): string[] => (JSON.parse(err.body) as { errors: Array<{ path: string }> }).errors.map((e) => e.path);
    // 'late' clashes with 'b'; it is the body's second node (it pointed into the stored list, at 3).
    const appended = await rejects(a.updateWorkspace({
      workspaceId: id, append: true, dialogNodes: [{ dialog_node: 'fine', previous_sibling: 'b' }, { dialog_node: 'late', previous_sibling: 'a' }],
    }), 400);
    assert.match(appended.message, /Dialog node 'late' is poorly defined: 'b' already follows 'a'/);
    assert.deepEqual(paths(appended), ['/dialog_nodes/1/previous_sibling']);
    const jump = await rejects(a.updateWorkspace({
      workspaceId: id, append: true, dialogNodes: [{ dialog_node: 'j', previous_sibling: 'b', next_step: { behavior: 'jump_to', dialog_node: 'nowhere', selector: 'body' } }],
    }), 400);
    assert.deepEqual(paths(jump), ['/dialog_nodes/0/next_step/dialog_node']);
    const single = await rejects(a.createDialogNode({ workspaceId: id, dialogNode: 'loner', parent: 'missing' }), 400);
    assert.deepEqual(paths(single), ['/parent']);
  });

  test('a workspace body is refused when two nodes share a position, siblings loop or a jump target is missing', async () => {
    const cases: Array<[Node[], RegExp]> = [
      [[{ dialog_node: 'a' }, { dialog_node: 'b' }], /Dialog node 'b' is poorly defined: 'a' is already the first node at the root/],
      [[{ dialog_node: 'p' }, { dialog_node: 'a', parent: 'p' }, { dialog_node: 'b', parent: 'p' }], /'a' is already the first child of 'p'/],
      [[{ dialog_node: 'a' }, { dialog_node: 'b', previous_sibling: 'a' }, { dialog_node: 'c', previous_sibling: 'a' }], /Dialog node 'c' is poorly defined: 'b' already follows 'a'/],
      [[{ dialog_node: 'r' }, { dialog_node: 'a', previous_sibling: 'b' }, { dialog_node: 'b', previous_sibling: 'a' }], /poorly defined: its previous_sibling chain loops back to it/],
      [[{ dialog_node: 'a', parent: 'b' }, { dialog_node: 'b', parent: 'a' }], /poorly defined: its parent chain loops back to it/],
      [[{ dialog_node: 'a', next_step: { behavior: 'jump_to', dialog_node: 'gone' } }], /Dialog node 'a' jumps to 'gone', which does not exist/],
    ];
    for (const [dialogNodes, message] of cases) {
      const err = await rejects(a.createWorkspace({ name: 'bad tree', dialogNodes }), 400);
      assert.match(err.message, message);
    }
  });
});
