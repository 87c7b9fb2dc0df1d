/**
 * Loads the configured models into {@link Explainer}s at start-up (fail fast: the first model
 * that cannot be loaded stops the start with a message naming it).
 */
import { basename } from 'node:path';
import { loadCsv } from '../data/csv.js';
import type { Dataset } from '../data/dataset.js';
import { encodeRecords, loadRawCsv } from '../data/encoder.js';
import type { GroupSpec } from '../data/players.js';
import { loadGroupsJson } from '../data/players.js';
import type { Schema } from '../data/schema.js';
import { loadSchema } from '../data/schema.js';
import { WhyboxError } from '../errors.js';
import type { Explainer } from '../explainer.js';
import { createExplainer } from '../explainer.js';
import type { AdverseDirection, ReasonTemplates } from '../explanation/reasons.js';
import { loadReasonTemplates, parseReasonTemplates, sha256File } from '../explanation/reasons.js';
import { fromModule } from '../models/function-model.js';
import type { WorkerPool } from '../parallel/pool.js';
import type { ModelConfig, ServiceConfig } from './config.js';
import { ConfigError } from './config.js';

/** How a model's decisions get reason codes (models with a schema). */
export interface ServedReasons {
  readonly templates: ReasonTemplates;
  /** Threshold in the explanation's units (log-odds under a logit link). */
  readonly threshold: number;
  readonly adverse: AdverseDirection;
  /** For audit records: the model file's SHA-256 and its base name (never a server path). */
  readonly modelSha256?: string;
  readonly modelFile?: string;
}

/** A model as the service serves it. */
export interface ServedModel {
  readonly name: string;
  readonly explainer: Explainer;
  readonly description?: string;
  /** Reason codes (`top` in explain requests), for models with a schema. */
  readonly reasons?: ServedReasons;
}

/** Statements for attributes without templates (the CLI's generic ones). */
const GENERIC_TEMPLATES = { default: '{label}: {value}', reasons: {} };

/** Loads every configured model (sharing `pool`); closes what was loaded when one fails. */
export async function loadModels(
  config: ServiceConfig,
  options: { pool?: WorkerPool; onWarning?: (m: string) => void } = {},
): Promise<Map<string, ServedModel>> {
  const served = new Map<string, ServedModel>();
  try {
    for (const [name, m] of Object.entries(config.models)) {
      const explainer = await loadModel(name, m, options);
      let reasons: ServedReasons | undefined;
      try {
        reasons = await loadReasons(name, m, explainer);
      } catch (error) {
        await explainer.close();
        throw error;
      }
      served.set(name, { name, explainer, description: m.description, reasons });
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
    if (m.schema === undefined && (m.reasons !== undefined || m.threshold !== undefined || m.adverse !== undefined))
      throw new ConfigError(
        `${m.reasons !== undefined ? 'reasons' : m.threshold !== undefined ? 'threshold' : 'adverse'} needs a schema (reason codes name raw attributes): add "schema"`,
      );
    if (m.schema !== undefined && m.groups !== undefined)
      throw new ConfigError(
        'groups cannot be combined with a schema: each schema attribute is one player; remove groups',
      );
    const schema = m.schema ? await loadSchema(m.schema) : undefined;
    let background: Dataset | undefined;
    if (m.background) background = await loadBackground(m.background, schema);
    let groups: GroupSpec | undefined;
    if (typeof m.groups === 'string') groups = await loadGroupsJson(m.groups);
    else if (m.groups) groups = m.groups;
    const model =
      m.module !== undefined
        ? await fromModule(m.module, m.export ?? 'default', {
            nInputs: m.inputs as number,
            ...(m.outputs ? { outputNames: m.outputs } : {}),
            ...(m.batched !== undefined ? { batched: m.batched } : {}),
            ...(m.link ? { link: m.link } : {}),
          })
        : undefined;
    return await createExplainer({
      ...(model ? { model } : { modelPath: m.onnx, onnx: { link: m.link, tensor: m.tensor } }),
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

/** Reason templates and decision settings of a model with a schema (undefined without one). */
async function loadReasons(name: string, m: ModelConfig, explainer: Explainer): Promise<ServedReasons | undefined> {
  const schema = explainer.schema;
  if (!schema) return undefined;
  const where = `model ${JSON.stringify(name)}`;
  try {
    if (explainer.outputs.length !== 1) {
      if (m.reasons === undefined && m.threshold === undefined) return undefined; // no reason codes asked for
      throw new ConfigError(
        `reason codes need one explained output (the score), but the model explains ${explainer.outputs.length} (${explainer.outputs.join(', ')}); set "output", e.g. ${JSON.stringify(explainer.outputs[explainer.outputs.length - 1])}`,
      );
    }
    const templates =
      typeof m.reasons === 'string'
        ? await loadReasonTemplates(m.reasons, schema)
        : parseReasonTemplates(
            m.reasons ?? GENERIC_TEMPLATES,
            m.reasons ? `${where} reasons` : '(generic statements)',
            schema,
          );
    const given = m.threshold ?? 0.5;
    if (m.link === 'logit' && !(given > 0 && given < 1))
      throw new ConfigError(`threshold must be a probability in (0, 1) with link "logit"; got ${given}`);
    const threshold = m.link === 'logit' ? Math.log(given / (1 - given)) : given;
    return {
      templates,
      threshold,
      adverse: m.adverse ?? 'higher',
      modelSha256: await sha256File((m.onnx ?? m.module) as string),
      modelFile: basename((m.onnx ?? m.module) as string),
    };
  } catch (error) {
    if (error instanceof WhyboxError && !(error instanceof ConfigError))
      throw new ConfigError(`${where}: ${error.message}`, { cause: error });
    if (error instanceof ConfigError && !error.message.startsWith(where))
      throw new ConfigError(`${where}: ${error.message}`, { cause: error });
    throw error;
  }
}
