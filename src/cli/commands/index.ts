import type { Command } from 'commander';

export interface CommandModule {
  /** The top-level commands the module registers. */
  names: string[];
  load: () => Promise<{ register(program: Command): void }>;
}

/**
 * Each capability's command module, one line each, in help order. Modules are imported only when
 * needed: a command line that names a command loads just that module, so `astore archive sql`
 * does not pay for loading the server, the database driver and the training code.
 */
export const commandModules: CommandModule[] = [
  { names: ['serve'], load: () => import('./serve.ts') },
  { names: ['migrate', 'db', 'instances', 'tokens', 'secret'], load: () => import('./store.ts') },
  { names: ['train-worker', 'retrain-all', 'retrain'], load: () => import('./training.ts') },
  { names: ['intents'], load: () => import('./intents.ts') },
  { names: ['backup', 'backup-job', 'backups'], load: () => import('./backup.ts') },
  { names: ['restore'], load: () => import('./restore.ts') },
  { names: ['archive'], load: () => import('./archive.ts') },
  { names: ['k8s'], load: () => import('./k8s.ts') },
];
