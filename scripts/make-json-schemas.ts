/**
 * `npm run schemas`: writes the JSON Schemas of whybox's JSON files to schemas/ (shipped in the
 * package as whybox/schemas/*) from their definitions in src/data/json-schemas.ts.
 * `--check` only compares (exit 1 when a file is stale); test/data/json-schemas.test.ts does too.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { JSON_SCHEMA_FILES, jsonSchemaDocument } from '../src/data/json-schemas.js';

const dir = fileURLToPath(new URL('../schemas/', import.meta.url));
const check = process.argv.includes('--check');
let stale = 0;
for (const file of Object.keys(JSON_SCHEMA_FILES)) {
  const text = `${JSON.stringify(jsonSchemaDocument(file), null, 2)}\n`;
  const path = `${dir}${file}`;
  if (check) {
    let current = '';
    try {
      current = readFileSync(path, 'utf8');
    } catch {}
    if (current !== text) {
      console.error(`schemas/${file} is stale: run npm run schemas`);
      stale++;
    }
  } else {
    writeFileSync(path, text);
    console.log(`wrote schemas/${file}`);
  }
}
process.exitCode = stale ? 1 : 0;
