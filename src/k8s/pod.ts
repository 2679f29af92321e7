/**
 * Containers that run this CLI, and the pod specs that hold them. Every container's command is
 * `astore` (the image must have it on PATH) and its args a command line of this CLI, which is
 * what lets the tests check each one against the CLI's own parser.
 */
import type { EnvVar, K8sObject, MountedFile } from './mounts.ts';
import { labels, objectMeta, type Component } from './names.ts';
import type { ManifestOptions } from './options.ts';

const CLI_COMMAND = 'astore';

export interface ContainerPlan {
  name: string;
  /** The astore command line, e.g. ['backup-job', '--config', FILE]. */
  args: string[];
  env: EnvVar[];
  files: MountedFile[];
  /**
   * What the scheduler reserves for the container. Requests only: a CPU limit would throttle it
   * and a memory limit OOM-kill the training of a large workspace.
   */
  requests: { cpu: string; memory: string };
  /** Ports, probes and the like. */
  extra?: K8sObject;
}

/**
 * For init containers, which only copy a file. A pod reserves the larger of its biggest init
 * container's request and the sum of its containers', so this adds nothing to the pod's.
 */
export const INIT_CONTAINER_REQUESTS = { cpu: '50m', memory: '64Mi' };

function container(image: string, plan: ContainerPlan): K8sObject {
  return {
    name: plan.name,
    image,
    command: [CLI_COMMAND],
    args: plan.args,
    ...(plan.env.length > 0 ? { env: plan.env } : {}),
    volumeMounts: plan.files.map((f) => f.mount),
    resources: { requests: plan.requests },
    // astore needs no privileges; with the pod's settings this meets the restricted Pod Security Standard.
    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
    ...plan.extra,
  };
}

/** What the pods run as; see `ManifestInput.runAs`. */
export type PodOptions = Pick<ManifestOptions, 'image' | 'runAs'>;

function podSecurityContext(runAs: number | undefined): K8sObject {
  return {
    runAsNonRoot: true,
    // fsGroup also makes a freshly provisioned (root-owned) backup PVC writable to the pod.
    ...(runAs === undefined ? {} : { runAsUser: runAs, runAsGroup: runAs, fsGroup: runAs }),
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

export interface PodPlan {
  containers: ContainerPlan[];
  initContainers?: ContainerPlan[];
  /** restartPolicy and the like. */
  extra?: K8sObject;
}

/** The pod spec; each volume is declared once however many containers mount it. */
export function podSpec(o: PodOptions, plan: PodPlan): K8sObject {
  const all = [...(plan.initContainers ?? []), ...plan.containers];
  const volumes = new Map<unknown, K8sObject>();
  for (const f of all.flatMap((c) => c.files)) volumes.set(f.volume.name, f.volume);
  return {
    ...plan.extra,
    securityContext: podSecurityContext(o.runAs),
    ...(plan.initContainers ? { initContainers: plan.initContainers.map((c) => container(o.image, c)) } : {}),
    containers: plan.containers.map((c) => container(o.image, c)),
    volumes: [...volumes.values()],
  };
}

/** A Deployment of `replicas` pods running one container, the pods labelled with `component`. */
export function deployment(o: PodOptions & Pick<ManifestOptions, 'instance' | 'namespace'>, name: string, component: Component, replicas: number, main: ContainerPlan): K8sObject {
  const selector = labels(o.instance, component);
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: objectMeta(name, o.instance, o.namespace, component),
    spec: {
      replicas,
      selector: { matchLabels: selector },
      template: { metadata: { labels: selector }, spec: podSpec(o, { containers: [main] }) },
    },
  };
}
