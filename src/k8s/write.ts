/** `-o FILE`: the manifests replace the file in one rename, so `kubectl apply -f` never reads half of them. */
import { dirname } from 'node:path';
import { AppError } from '../errors/index.ts';
import { writeAtomic } from '../store/index.ts';

export async function writeManifestsFile(file: string, yaml: string): Promise<void> {
  try {
    await writeAtomic(file, yaml);
  } catch (err) {
    throw new AppError('K8S_WRITE_FAILED', `cannot write ${file}: ${(err as Error).message}`, {
      hint: `check that ${dirname(file)} exists and is writable, or leave out -o to print the manifests`, exitCode: 1, cause: err,
    });
  }
}
