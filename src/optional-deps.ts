/**
 * Optional parts of whybox and the packages they load on first use. The default install
 * (`npm install whybox`) explains plain JavaScript functions and needs none of them; each part
 * is added with one command, printed by {@link MissingDependencyError} when it is missing.
 */
import { MissingDependencyError } from './errors.js';

/**
 * The command that adds each optional part. `ONNXRUNTIME_NODE_INSTALL=skip` keeps
 * onnxruntime-node's install script from downloading CUDA files from outside the npm registry
 * (the CPU runtime ships inside the package), so the command also works air-gapped.
 */
export const INSTALL_COMMANDS = {
  onnx: 'ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node',
  service: 'npm install fastify @fastify/swagger prom-client',
  plots: 'npm install vega vega-lite',
  testing: 'npm install --save-dev fast-check',
  queue: 'npm install bullmq ioredis',
} as const;

/** An optional part of whybox (a key of {@link INSTALL_COMMANDS}). */
export type OptionalPart = keyof typeof INSTALL_COMMANDS;

const PART_NAMES: Record<OptionalPart, string> = {
  onnx: 'loading ONNX models',
  service: 'the HTTP service (whybox/service, whybox serve)',
  plots: 'rendering plots (HTML reports)',
  testing: 'whybox/testing',
  queue: 'batch queues (whybox batch --queue, whybox worker, createBatchWorker)',
};

/** The packages of each optional part. */
export const OPTIONAL_PACKAGES: Record<OptionalPart, readonly string[]> = {
  onnx: ['onnxruntime-node'],
  service: ['fastify', '@fastify/swagger', 'prom-client'],
  plots: ['vega', 'vega-lite'],
  testing: ['fast-check'],
  queue: ['bullmq', 'ioredis'],
};

/** True when `error` is Node's "cannot find package NAME" for one of `packages`. */
export function isMissingPackage(error: unknown, packages: readonly string[]): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  if (e?.code !== 'ERR_MODULE_NOT_FOUND' && e?.code !== 'MODULE_NOT_FOUND') return false;
  const message = typeof e.message === 'string' ? e.message : '';
  return packages.some((p) => message.includes(`'${p}'`) || message.includes(`"${p}"`));
}

/**
 * Runs `load` (a dynamic `import()` of the part's packages) and turns Node's "cannot find
 * package" into a {@link MissingDependencyError} that prints the install command.
 * @internal
 */
export async function importOptional<T>(
  part: OptionalPart,
  load: () => Promise<T>,
  packages: readonly string[] = OPTIONAL_PACKAGES[part],
): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (isMissingPackage(error, packages))
      throw new MissingDependencyError(PART_NAMES[part], packages, INSTALL_COMMANDS[part], { cause: error });
    throw error;
  }
}
