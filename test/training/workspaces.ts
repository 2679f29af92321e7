/** The v1 calls the training tests make: a two-intent workspace, and its status. */
import { v1Request } from '../support/api.ts';

export function workspaceCalls(base: () => string, headers: () => Record<string, string>): {
  createWorkspace(name: string): Promise<string>;
  status(id: string): Promise<string>;
} {
  return {
    async createWorkspace(name) {
      const body = { name, intents: [{ intent: 'hello', examples: [{ text: 'hi there' }, { text: 'good morning' }] }, { intent: 'bye', examples: [{ text: 'see you later' }] }] };
      return (await v1Request(base(), headers(), 'POST', '/v1/workspaces', body)).workspace_id;
    },
    async status(id) {
      return (await v1Request(base(), headers(), 'GET', `/v1/workspaces/${id}`)).status;
    },
  };
}
