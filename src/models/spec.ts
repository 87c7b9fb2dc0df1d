import { ModelError } from '../errors.js';
import type { FunctionModelOptions } from './function-model.js';
import { fromModule } from './function-model.js';
import type { Model, ModelSpec } from './model.js';
import { selectOutputs } from './model.js';
import type { OnnxModelOptions } from './onnx-model.js';
import { loadOnnx } from './onnx-model.js';

/**
 * Rebuilds a model from its {@link ModelSpec} (inside a worker thread). `overrides` replace
 * spec options (the pool sets onnxruntime's intra-op threads per worker).
 */
export async function modelFromSpec(spec: ModelSpec, overrides: Record<string, unknown> = {}): Promise<Model> {
  const options = { ...spec.options, ...overrides };
  if (spec.kind === 'onnx') return loadOnnx(spec.source, options as OnnxModelOptions);
  if (spec.kind === 'module') {
    const { select, ...rest } = options as unknown as FunctionModelOptions & { select?: number[] };
    const model = await fromModule(spec.specifier, spec.exportName, rest);
    return select ? selectOutputs(model, select) : model;
  }
  throw new ModelError(`unknown model spec kind ${JSON.stringify((spec as { kind: unknown }).kind)}`);
}
