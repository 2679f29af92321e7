/** One object of the output, with the comment that tells an operator what it is for. */
import type { K8sObject } from './mounts.ts';

export interface ManifestDocument {
  comment: string;
  object: K8sObject;
}
