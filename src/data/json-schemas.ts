/**
 * JSON Schemas of whybox's JSON files, for editors (`"$schema"` in the file gives completion and
 * checks as you type): the schema file (`--schema`, `loadSchema`), reason templates
 * (`--reasons`, `loadReasonTemplates`) and the service configuration (`whybox.config.json`).
 * The package ships them as `whybox/schemas/*.schema.json` (written by `npm run schemas`).
 *
 * They describe the structure; the loaders check more (for example that reason templates name
 * attributes of the schema, or that a schema's columns are used once). The service
 * configuration's is the TypeBox schema the service validates with.
 */
import type { TSchema } from '@sinclair/typebox';
import { Type } from '@sinclair/typebox';
import { ServiceConfigSchema } from '../service/config.js';

const Category = Type.Union([Type.String(), Type.Number(), Type.Boolean()]);
/** A category, or a category with a label for reasons and reports (`{ "value": "A121", "label": "real estate" }`). */
const LabelledCategory = Type.Union([
  Category,
  Type.Object(
    { value: Category, label: Type.Optional(Type.String()) },
    { additionalProperties: false, description: 'a category with its label' },
  ),
]);
const common = {
  name: Type.String({ minLength: 1, description: 'attribute name (the record field / raw CSV column)' }),
  label: Type.Optional(Type.String({ description: 'human-readable name, used in reasons and reports' })),
  protected: Type.Optional(
    Type.Boolean({ description: 'never given as a reason (still explained and plotted); default false' }),
  ),
  description: Type.Optional(Type.String()),
  mutable: Type.Optional(
    Type.Boolean({ description: 'recourse may change it; default true (protected attributes never change)' }),
  ),
};

const NumericAttribute = Type.Object(
  {
    ...common,
    type: Type.Literal('numeric'),
    column: Type.Optional(Type.String({ minLength: 1, description: 'model input column; default the name' })),
    mean: Type.Optional(Type.Number({ description: 'standardisation: the model sees (x - mean) / std; default 0' })),
    std: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'default 1' })),
    min: Type.Optional(Type.Number({ description: 'smallest allowed raw value' })),
    max: Type.Optional(Type.Number({ description: 'largest allowed raw value' })),
    integer: Type.Optional(Type.Boolean({ description: 'values must be integers; default false' })),
    impute: Type.Optional(Type.Number({ description: "value for a missing cell under missing: 'impute'" })),
    direction: Type.Optional(
      Type.Union([Type.Literal('increase'), Type.Literal('decrease'), Type.Literal('any')], {
        description: 'recourse: which way the value may change; default any',
      }),
    ),
    step: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'recourse: changes are multiples of it' })),
    scale: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, description: 'recourse: cost of a change = |to - from| / scale' }),
    ),
  },
  { additionalProperties: false },
);

const CategoricalAttribute = Type.Object(
  {
    ...common,
    type: Type.Literal('categorical'),
    categories: Type.Array(LabelledCategory, {
      minItems: 1,
      description: 'the categories, in one-hot column order (each may carry a label)',
    }),
    columns: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        description: 'one-hot columns, one per (non-reference) category; default "<name>=<category>"',
      }),
    ),
    reference: Type.Optional(Type.Union([Category], { description: 'dummy coding: this category has no column' })),
    impute: Type.Optional(
      Type.Union([Category], { description: "category for a missing cell under missing: 'impute'" }),
    ),
  },
  { additionalProperties: false },
);

const Policy = Type.Object(
  {
    unknownCategory: Type.Optional(Type.Union([Type.Literal('error'), Type.Literal('zeros')])),
    missing: Type.Optional(Type.Union([Type.Literal('error'), Type.Literal('impute')])),
    outOfRange: Type.Optional(Type.Union([Type.Literal('error'), Type.Literal('clip'), Type.Literal('allow')])),
    extraAttributes: Type.Optional(Type.Union([Type.Literal('ignore'), Type.Literal('error')])),
  },
  { additionalProperties: false, description: 'default encoding policy (see the README "Schema format")' },
);

/** JSON Schema of a schema file (`SchemaFile`). */
export const SchemaFileJsonSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    name: Type.Optional(Type.String()),
    description: Type.Optional(Type.String()),
    version: Type.Optional(Type.Union([Type.String(), Type.Number()])),
    attributes: Type.Array(Type.Union([NumericAttribute, CategoricalAttribute]), { minItems: 1 }),
    columns: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        description: "the model's input columns in order; default the attributes' columns in attribute order",
      }),
    ),
    policy: Type.Optional(Policy),
  },
  { additionalProperties: false },
);

const Statement = Type.String({
  minLength: 1,
  description: 'placeholders: {value}, {baseline}, {label}, {attribute}, {code}',
});

/** JSON Schema of a reason templates file (`ReasonTemplatesFile`). */
export const ReasonTemplatesJsonSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    description: Type.Optional(Type.String()),
    default: Type.Optional(Statement),
    reasons: Type.Record(
      Type.String(),
      Type.Union([
        Statement,
        Type.Object(
          {
            code: Type.Optional(Type.String({ minLength: 1, description: 'reason code, such as R01' })),
            text: Type.Optional(Statement),
            higher: Type.Optional(Statement),
            lower: Type.Optional(Statement),
            categories: Type.Optional(Type.Record(Type.String(), Statement)),
          },
          { additionalProperties: false },
        ),
      ]),
      { description: 'per attribute: a statement, or an object with code, text, higher / lower or categories' },
    ),
  },
  { additionalProperties: false },
);

/** The JSON Schema files the package ships, by file name (see `npm run schemas`). */
export const JSON_SCHEMA_FILES: Readonly<Record<string, { title: string; schema: TSchema }>> = {
  'schema.schema.json': { title: 'whybox schema file (raw attributes -> model inputs)', schema: SchemaFileJsonSchema },
  'reasons.schema.json': { title: 'whybox reason templates', schema: ReasonTemplatesJsonSchema },
  'whybox.config.schema.json': { title: 'whybox serve configuration', schema: ServiceConfigSchema },
};

/** A JSON Schema document (draft 2020-12) of `schema`, as written to `schemas/<file>`. */
export function jsonSchemaDocument(file: string): Record<string, unknown> {
  const entry = JSON_SCHEMA_FILES[file];
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: entry.title,
    ...JSON.parse(JSON.stringify(entry.schema)),
  };
}
