/**
 * JSON schemas (TypeBox) of the service's requests and responses. Request schemas validate
 * (fastify/ajv, no type coercion, unknown fields refused); every schema feeds /openapi.json.
 */
import type { Static } from '@sinclair/typebox';
import { Type } from '@sinclair/typebox';
import { KERNEL_VARIANTS } from '../estimators/kernel.js';
import type { Limits } from './config.js';
import { MODEL_NAME_PATTERN } from './config.js';

export const ModelParams = Type.Object({
  name: Type.String({ pattern: MODEL_NAME_PATTERN, description: 'a configured model name' }),
});
export type ModelParamsT = Static<typeof ModelParams>;

const Row = Type.Array(Type.Number(), {
  minItems: 1,
  maxItems: 100_000,
  description: 'one row: numbers in the model input column order',
});

const Record_ = Type.Record(
  Type.String(),
  Type.Union([Type.Number(), Type.String({ maxLength: 1024 }), Type.Boolean(), Type.Null()]),
  { maxProperties: 1024, description: 'one raw record {attribute: value} (models with a schema)' },
);

const Output = Type.Union([Type.Integer({ minimum: 0 }), Type.String({ minLength: 1, maxLength: 200 })], {
  description: 'output to explain: an index or an output name such as "probabilities[1]"',
});

/** Body of POST /v1/models/{name}/explain. */
export function explainBody(limits: Limits) {
  return Type.Object(
    {
      rows: Type.Optional(Type.Array(Row, { minItems: 1, maxItems: limits.rowsPerRequest })),
      records: Type.Optional(Type.Array(Record_, { minItems: 1, maxItems: limits.rowsPerRequest })),
      method: Type.Optional(
        Type.Union([Type.Literal('exact'), Type.Literal('kernel'), Type.Literal('permutation')], {
          description: "default: the model's configured default, else kernel",
        }),
      ),
      variant: Type.Optional(Type.Union(KERNEL_VARIANTS.map((v) => Type.Literal(v)))),
      budget: Type.Optional(
        Type.Union([Type.Integer({ minimum: 2, maximum: limits.maxBudget }), Type.Literal('auto')], {
          description: `coalition values per row (at most ${limits.maxBudget}), or "auto" (kernel)`,
        }),
      ),
      seed: Type.Optional(
        Type.Integer({
          minimum: -Number.MAX_SAFE_INTEGER,
          maximum: Number.MAX_SAFE_INTEGER,
          description: 'random seed (default: random, echoed in the answer)',
        }),
      ),
      output: Type.Optional(Output),
      top: Type.Optional(
        Type.Integer({ minimum: 1, maximum: 100, description: 'reason codes per row (models with reasons)' }),
      ),
      timeoutMs: Type.Optional(
        Type.Integer({
          minimum: 1,
          maximum: limits.timeoutMs,
          description: `deadline of this request in ms (at most ${limits.timeoutMs})`,
        }),
      ),
    },
    { additionalProperties: false },
  );
}
export type ExplainBodyT = Static<ReturnType<typeof explainBody>>;

/** Body of POST /v1/models/{name}/predict. */
export function predictBody(limits: Limits) {
  return Type.Object(
    {
      rows: Type.Optional(Type.Array(Row, { minItems: 1, maxItems: limits.rowsPerRequest })),
      records: Type.Optional(Type.Array(Record_, { minItems: 1, maxItems: limits.rowsPerRequest })),
      output: Type.Optional(Output),
      timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: limits.timeoutMs })),
    },
    { additionalProperties: false },
  );
}
export type PredictBodyT = Static<ReturnType<typeof predictBody>>;

const Numbers = Type.Array(Type.Number());

/** The CLI's `--format json` object (ExplanationJSON). */
export const ExplanationSchema = Type.Object(
  {
    method: Type.String(),
    variant: Type.Optional(Type.String()),
    players: Type.Array(Type.String()),
    outputs: Type.Array(Type.String()),
    baseValues: Numbers,
    rows: Type.Array(
      Type.Object({
        index: Type.Integer(),
        prediction: Numbers,
        values: Type.Array(Numbers, { description: 'values[player][output]' }),
        stderr: Type.Optional(Type.Array(Numbers)),
        exact: Type.Boolean(),
        converged: Type.Optional(Type.Boolean()),
        efficiencyGap: Type.Number(),
        decisionScore: Type.Optional(Type.Number({ description: 'with top: the score decided on' })),
        decision: Type.Optional(Type.Union([Type.Literal('adverse'), Type.Literal('favorable')])),
        reasons: Type.Optional(
          Type.Array(
            Type.Object({
              rank: Type.Integer(),
              attribute: Type.String(),
              label: Type.String(),
              code: Type.Optional(Type.String()),
              statement: Type.String(),
              value: Type.Union([Type.String(), Type.Number(), Type.Null()]),
              baseline: Type.Optional(Type.Union([Type.String(), Type.Number(), Type.Null()])),
              contribution: Type.Number(),
            }),
            { description: 'with top: principal reasons, strongest first (never a protected attribute)' },
          ),
        ),
        audit: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'with top: audit record' })),
      }),
    ),
    baseline: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'with top' })),
    reasonOptions: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'with top' })),
    importance: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'with top' })),
    evaluations: Type.Integer(),
    modelRows: Type.Integer(),
    seconds: Type.Number(),
    seed: Type.Integer(),
    budget: Type.Union([Type.Integer(), Type.Literal('auto')]),
    background: Type.Object({ rows: Type.Integer(), summary: Type.String() }),
    threads: Type.Integer(),
    version: Type.String(),
  },
  {
    description:
      'the same object as `whybox explain --format json`; with `top`, as `whybox explain --schema ... --format json` (decisions and reasons)',
  },
);

export const PredictionSchema = Type.Object({
  model: Type.String(),
  outputs: Type.Array(Type.String()),
  predictions: Type.Array(Numbers, { description: 'predictions[row][output]' }),
});

export const ErrorSchema = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    field: Type.Optional(Type.String()),
    requestId: Type.Optional(Type.String()),
  }),
});

export const ModelInfoSchema = Type.Object({
  name: Type.String(),
  description: Type.Optional(Type.String()),
  inputs: Type.Integer(),
  columns: Type.Array(Type.String()),
  players: Type.Array(Type.String()),
  outputs: Type.Array(Type.String()),
  allOutputs: Type.Array(Type.String()),
  background: Type.Union([Type.Object({ rows: Type.Integer(), summary: Type.String() }), Type.Null()]),
  attributes: Type.Union(
    [
      Type.Array(
        Type.Object({
          name: Type.String(),
          type: Type.String(),
          categories: Type.Optional(Type.Array(Type.String())),
          min: Type.Optional(Type.Number()),
          max: Type.Optional(Type.Number()),
          integer: Type.Optional(Type.Boolean()),
        }),
      ),
      Type.Null(),
    ],
    { description: 'raw record attributes (models with a schema), else null' },
  ),
  explain: Type.Boolean({ description: 'false when the model has no background (predict only)' }),
  reasons: Type.Union([Type.Object({ threshold: Type.Number(), adverse: Type.String() }), Type.Null()], {
    description: 'decision settings of reason codes (`top`), or null when the model has none',
  }),
  threads: Type.Integer(),
  defaults: Type.Record(Type.String(), Type.Unknown()),
});

export const ModelListSchema = Type.Object({ models: Type.Array(ModelInfoSchema) });

export const StatusSchema = Type.Object({ status: Type.String() });
