// The optional parts (onnxruntime-node, fastify, vega, fast-check) fail with a typed error that
// prints the install command when their package is missing. A missing package is simulated with
// a real dynamic import of a package that does not exist, so the error is Node's own.
import { describe, expect, it } from 'vitest';
import { MissingDependencyError, WhyboxError } from '../src/errors.js';
import { INSTALL_COMMANDS, importOptional, isMissingPackage } from '../src/optional-deps.js';

const absent = 'whybox-test-no-such-package';
const importAbsent = () => import(/* @vite-ignore */ absent);

describe('importOptional', () => {
  it('turns "cannot find package" into MissingDependencyError with the install command', async () => {
    const error = await importOptional('onnx', importAbsent, [absent]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingDependencyError);
    const e = error as MissingDependencyError;
    expect(e).toBeInstanceOf(WhyboxError);
    expect(e.code).toBe('DEPENDENCY');
    expect(e.userError).toBe(true);
    expect(e.command).toBe('ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node');
    expect(e.message).toContain(`install with: ${INSTALL_COMMANDS.onnx}`);
    expect(e.message).toContain(absent);
    expect((e.cause as { code?: string }).code).toMatch(/MODULE_NOT_FOUND/);
  });

  it('passes other errors through (a different missing package, an error of the module)', async () => {
    const other = await importOptional('plots', importAbsent, ['vega']).catch((e: unknown) => e);
    expect(other).not.toBeInstanceOf(MissingDependencyError);
    expect(isMissingPackage(other, [absent])).toBe(true);
    const boom = new TypeError('boom');
    await expect(importOptional('service', () => Promise.reject(boom))).rejects.toBe(boom);
  });

  it('returns the module when it is installed', async () => {
    const mod = await importOptional('plots', () => import('vega-lite'));
    expect(typeof mod.compile).toBe('function');
  });

  it('names one install command per optional part, each an npm install of its packages', () => {
    for (const command of Object.values(INSTALL_COMMANDS)) expect(command).toMatch(/(^|\s)npm install /);
  });
});
