/**
 * The v1 `/message` runtime: entity extraction and dialog evaluation as pure functions of a
 * workspace export, a request and an injected intent classifier. No I/O; callers cache
 * `compileDialog(workspace)` per workspace version and pass it to `respond`.
 */
export { ALTERNATE_INTENTS, classifyInput, respond, type RespondOptions } from './engine.ts';
export { compileDialog, type CompiledDialog, type CompiledNode } from './dialog.ts';
export { compileEntities, compileEntityPattern, extractEntities, type EntityMatcher, type ExtractOptions } from './entities.ts';
export { compileExpression, INTENT_THRESHOLD, ExpressionSyntaxError, type Scope } from './expression.ts';
export { SYSTEM_ENTITIES } from './system-entities.ts';
export type {
  DialogNode, GenericItem, LogMessage, MessageContext, MessageOutput, MessageRequest, MessageResponse, NextStep, Nlu,
  RuntimeEntity, RuntimeIntent, Workspace, WorkspaceEntity, WorkspaceIntent, WorkspaceValue,
} from './types.ts';
