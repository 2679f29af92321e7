/**
 * The v1 shapes the runtime reads and writes: the workspace export (only the fields the runtime
 * uses; anything else is carried but ignored) and the `/message` request and response.
 */
export interface WorkspaceValue {
  value: string;
  /** Missing in old exports; means 'synonyms'. */
  type?: 'synonyms' | 'patterns';
  synonyms?: string[];
  patterns?: string[];
}

export interface WorkspaceEntity {
  entity: string;
  values?: WorkspaceValue[];
  fuzzy_match?: boolean;
}

export interface WorkspaceIntent {
  intent: string;
  examples?: Array<{ text: string }>;
}

export interface NextStep {
  behavior: 'get_user_input' | 'skip_user_input' | 'jump_to' | 'reprompt' | 'skip_slot' | 'skip_all_slots';
  dialog_node?: string;
  selector?: 'condition' | 'client' | 'user_input' | 'body';
}

export interface DialogNode {
  dialog_node: string;
  type?: 'standard' | 'event_handler' | 'frame' | 'slot' | 'response_condition' | 'folder';
  event_name?: string;
  conditions?: string;
  parent?: string;
  previous_sibling?: string;
  title?: string;
  output?: Record<string, unknown>;
  context?: Record<string, unknown>;
  next_step?: NextStep;
  /** What older exports (food-coach's, from 2016) have instead of next_step: always a jump. */
  go_to?: { dialog_node: string; selector?: NextStep['selector']; return?: boolean | null } | null;
  variable?: string;
  disabled?: boolean;
  actions?: unknown[];
  /** Root-level nodes: whether a digression may enter, and whether it returns afterwards. */
  digress_in?: 'not_available' | 'returns' | 'does_not_return';
  /** A node waiting for its children: which digressions may leave it, and whether they return. */
  digress_out?: 'allow_returning' | 'allow_all' | 'allow_all_never_return';
  /** A frame waiting for a slot: the same, for slot filling. */
  digress_out_slots?: 'not_allowed' | 'allow_returning' | 'allow_all';
}

export interface Workspace {
  name?: string;
  language?: string;
  intents?: WorkspaceIntent[];
  entities?: WorkspaceEntity[];
  dialog_nodes?: DialogNode[];
  system_settings?: Record<string, unknown>;
}

export interface RuntimeIntent {
  intent: string;
  confidence: number;
}

export interface RuntimeEntity {
  entity: string;
  /** [start, end), zero-based character offsets into input.text. */
  location: [number, number];
  value: string;
  confidence: number;
  groups?: Array<{ group: string; location: [number, number] }>;
  interpretation?: Record<string, unknown>;
}

export interface LogMessage {
  level: 'info' | 'warn' | 'error';
  msg: string;
  code: string;
  source?: Record<string, unknown>;
}

export interface MessageContext {
  conversation_id?: string;
  system?: Record<string, unknown>;
  metadata?: { user_id?: string; deployment?: string } & Record<string, unknown>;
  [variable: string]: unknown;
}

export interface MessageRequest {
  input?: { text?: string } & Record<string, unknown>;
  intents?: Array<{ intent: string; confidence?: number }>;
  entities?: Array<Partial<RuntimeEntity> & { entity: string; value: string }>;
  alternate_intents?: boolean;
  context?: MessageContext;
  output?: Record<string, unknown>;
  user_id?: string;
}

export interface GenericItem {
  response_type: string;
  [field: string]: unknown;
}

export interface MessageOutput {
  /** From version 2018-07-10. */
  generic?: GenericItem[];
  text?: string[];
  nodes_visited: string[];
  nodes_visited_details?: Array<{ dialog_node: string; title?: string; conditions?: string }>;
  log_messages: LogMessage[];
  [field: string]: unknown;
}

export interface MessageResponse {
  input: Record<string, unknown>;
  intents: RuntimeIntent[];
  entities: RuntimeEntity[];
  alternate_intents?: boolean;
  context: MessageContext;
  output: MessageOutput;
  actions?: unknown[];
  user_id: string;
}

/** The intent classifier, injected: returns intents sorted by descending confidence. */
export interface Nlu {
  classify(text: string): RuntimeIntent[];
}
