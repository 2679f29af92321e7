export * as elements from './elements-repo.ts';
export {
  createWorkspace, getWorkspace, updateWorkspace, deleteWorkspace, listWorkspaces, findWorkspace, dialogElements,
  workspaceJson, workspaceKey, notFound, algorithmGeneration, modelIsCurrent, modelIsReadable, trainingWanted, type ReadContext, type WorkspaceRow,
} from './workspace-repo.ts';
export { decodeCursor, type Page, type PageResult } from './page.ts';
export * as schemas from './validate.ts';
export { nullKeys, parseBody, invalidBody, type FieldError, type WorkspaceInput } from './validate.ts';
export type { Json, Shape } from './serialize.ts';
