// The shipped JSON Schemas (schemas/*.schema.json) agree with the loaders: every example file
// the repo ships validates against its JSON Schema (with ajv, an independent JSON Schema
// validator) and loads; files the loaders refuse for their structure are refused by the JSON
// Schema too; a "$schema" key is accepted by every loader; the committed files are up to date.
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { JSON_SCHEMA_FILES, jsonSchemaDocument } from '../../src/data/json-schemas.js';
import { parseSchema } from '../../src/data/schema.js';
import { parseReasonTemplates } from '../../src/explanation/reasons.js';
import { checkServiceConfig } from '../../src/service/config.js';

const root = new URL('../../', import.meta.url);
const readJson = (path: string) => JSON.parse(readFileSync(new URL(path, root), 'utf8'));
const ajv = new Ajv2020({ allErrors: true, strict: false });
const validator = (file: string) => ajv.compile(readJson(`schemas/${file}`));
const schemaValid = validator('schema.schema.json');
const reasonsValid = validator('reasons.schema.json');
const configValid = validator('whybox.config.schema.json');

/** The README's whybox.config.json example (the first JSON block of the HTTP service section). */
function readmeConfig(): unknown {
  const readme = readFileSync(new URL('README.md', root), 'utf8');
  const section = readme.slice(readme.indexOf('## HTTP service'));
  const block = /```json\n([\s\S]*?)\n```/.exec(section);
  return JSON.parse(block![1]);
}

describe('JSON Schemas of the JSON files', () => {
  it('are up to date with src/data/json-schemas.ts (npm run schemas)', () => {
    for (const file of Object.keys(JSON_SCHEMA_FILES))
      expect(readFileSync(new URL(`schemas/${file}`, root), 'utf8')).toBe(
        `${JSON.stringify(jsonSchemaDocument(file), null, 2)}\n`,
      );
  });

  it('accept every shipped schema and reasons file, which the loaders accept too', () => {
    for (const dir of ['datasets/credit-demo', 'examples/german-credit']) {
      const schemaJson = readJson(`${dir}/schema.json`);
      expect(schemaValid(schemaJson), JSON.stringify(schemaValid.errors)).toBe(true);
      const schema = parseSchema(schemaJson, `${dir}/schema.json`);
      const reasons = readJson(`${dir}/reasons.json`);
      expect(reasonsValid(reasons), JSON.stringify(reasonsValid.errors)).toBe(true);
      expect(() => parseReasonTemplates(reasons, 'reasons', schema)).not.toThrow();
    }
    const config = readmeConfig();
    expect(configValid(config), JSON.stringify(configValid.errors)).toBe(true);
    expect(() => checkServiceConfig(config)).not.toThrow();
  });

  it('accept "$schema" in each file, as the loaders do', () => {
    const schemaJson = {
      $schema: './node_modules/whybox/schemas/schema.schema.json',
      ...readJson('datasets/credit-demo/schema.json'),
    };
    expect(schemaValid(schemaJson)).toBe(true);
    const schema = parseSchema(schemaJson);
    const reasons = { $schema: 'x', ...readJson('datasets/credit-demo/reasons.json') };
    expect(reasonsValid(reasons)).toBe(true);
    expect(() => parseReasonTemplates(reasons, 'reasons', schema)).not.toThrow();
    const config = { $schema: 'x', ...(readmeConfig() as object) };
    expect(configValid(config)).toBe(true);
    expect(() => checkServiceConfig(config)).not.toThrow();
  });

  it('refuse what the loaders refuse for its structure', () => {
    const base = readJson('datasets/credit-demo/schema.json');
    const attr0 = base.attributes[0];
    const badSchemas = [
      { ...base, colums: base.columns }, // unknown top-level field
      { ...base, attributes: [] },
      { ...base, attributes: [{ ...attr0, type: 'ordinal' }, ...base.attributes.slice(1)] },
      { ...base, attributes: [{ name: 'x', type: 'numeric', std: 0 }] },
      { ...base, attributes: [{ name: 'x', type: 'numeric', categories: ['a'] }] },
      { ...base, policy: { missing: 'drop' } },
    ];
    for (const bad of badSchemas) {
      expect(schemaValid(bad), JSON.stringify(bad).slice(0, 80)).toBe(false);
      expect(() => parseSchema(bad)).toThrow();
    }
    const reasons = readJson('datasets/credit-demo/reasons.json');
    const badReasons = [
      { ...reasons, extra: 1 },
      { ...reasons, reasons: { duration_months: { code: 'R02', txt: 'typo' } } },
      { ...reasons, reasons: { duration_months: 42 } },
      { description: 'no reasons' },
    ];
    for (const bad of badReasons) {
      expect(reasonsValid(bad), JSON.stringify(bad).slice(0, 80)).toBe(false);
      expect(() => parseReasonTemplates(bad)).toThrow();
    }
    const config = readmeConfig() as Record<string, unknown>;
    const badConfigs = [
      { ...config, thread: 2 },
      { ...config, models: {} },
      { ...config, logLevel: 'loud' },
      { ...config, server: { port: 70000 } },
    ];
    for (const bad of badConfigs) {
      expect(configValid(bad), JSON.stringify(bad).slice(0, 80)).toBe(false);
      expect(() => checkServiceConfig(bad)).toThrow();
    }
  });
});
