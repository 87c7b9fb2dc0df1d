/**
 * JSON schemas (TypeBox) of the service's requests and responses. Request schemas validate
 * (fastify/ajv, no type coercion, unknown fields refused); every schema feeds /openapi.json.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import { Type } from '@sinclair/typebox';
import { acceptedNames, inHttp } from '../methods/options.js';
import { allOptions, METHODS, methodNames } from '../methods/registry.js';
import type { OptionSpec } from '../methods/types.js';
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
  {
    maxProperties: 1024,
    // attribute names are bounded like values: a huge key costs the server nothing but a 400
    propertyNames: { maxLength: 200 },
    description: 'one raw record {attribute: value} (models with a schema)',
  },
);

const Output = Type.Union([Type.Integer({ minimum: 0 }), Type.String({ minLength: 1, maxLength: 200 })], {
  description: 'output to explain: an index or an output name such as "probabilities[1]"',
});

/** Fields of the explain body that are not method options. */
const REQUEST_FIELDS = ['rows', 'records', 'output', 'top', 'timeoutMs'] as const;

/** The JSON schema of one registry option (bounded: no client string costs more than a few kB). */
export function optionSchema(spec: OptionSpec, limits: Limits): TSchema {
  const takers = METHODS.filter((m) => acceptedNames(m).has(spec.name)).map((m) => m.name);
  const description = `${spec.help}${spec.default ? ` (default ${spec.default})` : ''}; methods: ${takers.join(', ')}`;
  switch (spec.kind) {
    case 'budget':
      return spec.auto
        ? Type.Union([Type.Integer({ minimum: 2, maximum: limits.maxBudget }), Type.Literal('auto')], {
            description: `${description}; at most ${limits.maxBudget}`,
          })
        : Type.Integer({
            minimum: 2,
            maximum: limits.maxBudget,
            description: `${description}; at most ${limits.maxBudget}`,
          });
    case 'integer':
      return Type.Integer({
        ...(spec.min !== undefined ? { minimum: spec.min } : {}),
        ...(spec.max !== undefined ? { maximum: spec.max } : {}),
        description,
      });
    case 'number':
      return Type.Number({
        ...(spec.positive ? { exclusiveMinimum: 0 } : {}),
        ...(spec.min !== undefined ? { minimum: spec.min } : {}),
        ...(spec.max !== undefined ? { maximum: spec.max } : {}),
        description,
      });
    case 'boolean':
      return Type.Boolean({ description });
    case 'enum':
      return Type.Union(
        (spec.values ?? []).map((v) => Type.Literal(v)),
        { description },
      );
    case 'list':
      return Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 1000, description });
    default:
      return Type.Unknown({ description });
  }
}

/** Names of the method options an explain request may carry (the registry's HTTP fields). */
export function httpOptionNames(): string[] {
  return allOptions()
    .filter((o) => inHttp(o) && o.name !== 'seed')
    .map((o) => o.name);
}

/**
 * Body of POST /v1/models/{name}/explain: rows or records, the method (every registered
 * tabular method) and every method option of the registry; an option the chosen method does
 * not take is refused at run time (400 naming the field).
 */
export function explainBody(limits: Limits) {
  const options: Record<string, TSchema> = {};
  for (const spec of allOptions())
    if (inHttp(spec) && spec.name !== 'seed') options[spec.name] = Type.Optional(optionSchema(spec, limits));
  return Type.Object(
    {
      rows: Type.Optional(Type.Array(Row, { minItems: 1, maxItems: limits.rowsPerRequest })),
      records: Type.Optional(Type.Array(Record_, { minItems: 1, maxItems: limits.rowsPerRequest })),
      method: Type.Optional(
        Type.Union(
          methodNames('tabular').map((m) => Type.Literal(m)),
          { description: "default: the model's configured default, else kernel" },
        ),
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
      ...options,
      certify: Type.Optional(
        Type.Boolean({ description: 'with top: raise the budget until the reasons are settled, or report the tie' }),
      ),
      recourse: Type.Optional(
        Type.Union(
          [
            Type.Boolean(),
            Type.Object(
              {
                count: Type.Optional(Type.Integer({ minimum: 1, maximum: 20 })),
                maxChanges: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 })),
                budget: Type.Optional(Type.Integer({ minimum: 2, maximum: 20000 })),
              },
              { additionalProperties: false },
            ),
          ],
          {
            description: 'with top: verified counterfactuals per adverse row (true, or { count, maxChanges, budget })',
          },
        ),
      ),
    },
    { additionalProperties: false },
  );
}
export { REQUEST_FIELDS };
export type ExplainBodyT = {
  rows?: number[][];
  records?: Record<string, string | number | boolean | null>[];
  method?: string;
  seed?: number;
  output?: number | string;
  top?: number;
  timeoutMs?: number;
  certify?: boolean;
  recourse?: boolean | { count?: number; maxChanges?: number; budget?: number };
} & Record<string, unknown>;

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
    columns: Type.Optional(Type.Array(Type.String(), { description: 'model input columns' })),
    playerColumns: Type.Optional(Type.Array(Type.Array(Type.Integer()), { description: "each player's columns" })),
    baseValues: Numbers,
    rows: Type.Array(
      Type.Object({
        index: Type.Integer(),
        data: Type.Optional(Numbers),
        prediction: Numbers,
        values: Type.Array(Numbers, { description: 'values[player][output]' }),
        stderr: Type.Optional(Type.Array(Numbers)),
        exact: Type.Boolean(),
        converged: Type.Optional(Type.Boolean()),
        efficiencyGap: Type.Optional(Type.Number({ description: 'absent for LIME' })),
        baseValue: Type.Optional(Numbers),
        intercept: Type.Optional(Numbers),
        localPrediction: Type.Optional(Numbers),
        score: Type.Optional(Numbers),
        conditions: Type.Optional(Type.Array(Type.String())),
        selected: Type.Optional(Type.Array(Type.Array(Type.Integer()))),
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
        reasonsStable: Type.Optional(Type.Boolean({ description: 'with certify' })),
        stability: Type.Optional(Type.String({ description: 'with certify: exact | separated | tie | no-reasons' })),
        tie: Type.Optional(Type.Array(Type.String(), { description: 'with certify: attributes left tied' })),
        reasonsBudget: Type.Optional(Type.Integer({ description: 'with certify: budget the reasons come from' })),
        recourse: Type.Optional(
          Type.Array(
            Type.Object({
              changes: Type.Array(
                Type.Object({
                  attribute: Type.String(),
                  from: Type.Union([Type.String(), Type.Number(), Type.Null()]),
                  to: Type.Union([Type.String(), Type.Number()]),
                }),
              ),
              score: Type.Number(),
              cost: Type.Number(),
            }),
            { description: 'with recourse: verified counterfactuals (each scored by the model)' },
          ),
        ),
        recourseStatus: Type.Optional(
          Type.String({ description: 'with recourse: found | none-within-budget | not-needed' }),
        ),
        recourseEvaluations: Type.Optional(Type.Integer()),
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
    meta: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), { description: 'every parameter that shaped the result' }),
    ),
    lime: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'LIME settings' })),
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
