/**
 * Loads the configured models into {@link Explainer}s at start-up (fail fast: the first model
 * that cannot be loaded stops the start with a message naming it).
 */
import { readFile } from 'node:fs/promises';
import { describeFsError, loadCsv } from '../data/csv.js';
import type { Dataset } from '../data/dataset.js';
import { encodeRecords, loadRawCsv } from '../data/encoder.js';
import type { GroupSpec } from '../data/players.js';
import { parseGroupsJson } from '../data/players.js';
import type { Schema } from '../data/schema.js';
import { loadSchema } from '../data/schema.js';
import { DataError, WhyboxError } from '../errors.js';
import type { Explainer } from '../explainer.js';
import { createExplainer } from '../explainer.js';
import type { WorkerPool } from '../parallel/pool.js';
import type { ModelConfig, ServiceConfig } from './config.js';
import { ConfigError } from './config.js';

/** A model as the service serves it. */
export interface ServedModel {
  readonly name: string;
  readonly explainer: Explainer;
  readonly description?: string;
}

/** Loads every configured model (sharing `pool`); closes what was loaded when one fails. */
export async function loadModels(
  config: ServiceConfig,
  options: { pool?: WorkerPool; onWarning?: (m: string) => void } = {},
): Promise<Map<string, ServedModel>> {
  const served = new Map<string, ServedModel>();
  try {
    for (const [name, m] of Object.entries(config.models)) {
      served.set(name, { name, explainer: await loadModel(name, m, options), description: m.description });
    }
  } catch (error) {
    await Promise.allSettled([...served.values()].map((s) => s.explainer.close()));
    throw error;
  }
  return served;
}

async function loadModel(
  name: string,
  m: ModelConfig,
  options: { pool?: WorkerPool; onWarning?: (m: string) => void },
): Promise<Explainer> {
  const where = `model ${JSON.stringify(name)}`;
  try {
    if (m.reasons !== undefined)
      throw new ConfigError(
        'reasons are not supported by this version of the service (reason codes need the reasons module); remove the entry',
      );
    const schema = m.schema ? await loadSchema(m.schema) : undefined;
    let background: Dataset | undefined;
    if (m.background) background = await loadBackground(m.background, schema);
    let groups: GroupSpec | undefined;
    if (typeof m.groups === 'string') groups = await readGroups(m.groups);
    else if (m.groups) groups = m.groups;
    return await createExplainer({
      modelPath: m.onnx,
      onnx: { link: m.link, tensor: m.tensor },
      output: m.output,
      background,
      summarize: m.summarize ? { method: 'kmeans', rows: m.summarize } : undefined,
      groups,
      schema,
      pool: options.pool,
      threads: options.pool ? undefined : 1,
      defaults: m.defaults,
      onWarning: options.onWarning,
    });
  } catch (error) {
    if (error instanceof WhyboxError) {
      const e = new ConfigError(`${where}: ${error.message}`, { cause: error });
      throw e;
    }
    throw error;
  }
}

async function readGroups(path: string): Promise<GroupSpec> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new DataError(describeFsError(error, path), {}, { cause: error });
  }
  return parseGroupsJson(text, path);
}

/**
 * A background CSV: numbers in the model's columns, or — with a schema — raw records (a
 * header of attribute names) encoded with the schema.
 */
async function loadBackground(path: string, schema: Schema | undefined): Promise<Dataset> {
  if (schema) {
    const raw = await loadRawCsv(path);
    const encoded = raw.header.length === schema.columns.length && raw.header.every((h, i) => h === schema.columns[i]);
    if (!encoded) return encodeRecords(schema, raw);
  }
  return loadCsv(path);
}
