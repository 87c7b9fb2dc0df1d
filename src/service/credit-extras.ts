/**
 * Recourse and certified reasons in the service's explain route (models with a schema and
 * reasons): `"certify": true` and `"recourse": true | { count, maxChanges, budget }`.
 */
import type { Dataset } from '../data/dataset.js';
import { InvalidOptionError } from '../errors.js';
import type { RowsInput } from '../explain.js';
import type { Explainer, ExplainerCallOptions } from '../explainer.js';
import type { RecourseReport } from '../explainers/recourse.js';
import { RECOURSE_DEFAULTS, recourse } from '../explainers/recourse.js';
import type { RowCertification } from '../explanation/certify.js';
import { CERTIFY_MAX_FACTOR, certifyReasons } from '../explanation/certify.js';
import type { Explanation } from '../explanation/explanation.js';
import type { ReasonReport } from '../explanation/reasons.js';
import { reasonCodes } from '../explanation/reasons.js';
import type { Model } from '../models/model.js';
import type { ServedReasons } from './models.js';

/** The request fields of {@link creditExplain}. */
export interface CreditRequest {
  top: number;
  certify?: boolean;
  recourse?: boolean | { count?: number; maxChanges?: number; budget?: number };
}

/** Explains rows of a schema model with reasons, certified and/or with recourse as requested. */
export async function creditExplain(
  ex: Explainer,
  reasons: ServedReasons,
  input: RowsInput,
  call: ExplainerCallOptions & { signal: AbortSignal },
  request: CreditRequest,
  maxBudget: number,
): Promise<{ exp: Explanation; report: ReasonReport; certification?: RowCertification[]; recourse?: RecourseReport }> {
  const schema = ex.schema;
  if (!schema || !ex.background)
    throw new InvalidOptionError('model', 'a model with a schema and a background', undefined);
  const background = { data: ex.background.data, nRows: ex.background.nRows };
  const reasonOptions = {
    schema,
    templates: reasons.templates,
    top: request.top,
    threshold: reasons.threshold,
    adverse: reasons.adverse,
    background: ex.background,
    audit: { modelSha256: reasons.modelSha256, modelFile: reasons.modelFile },
  };
  let exp: Explanation;
  let report: ReasonReport;
  let certification: RowCertification[] | undefined;
  if (request.certify) {
    const start = typeof call.budget === 'number' ? call.budget : undefined;
    const res = await certifyReasons((r, budget) => ex.explain(r, { ...call, budget }), input, {
      ...reasonOptions,
      method: call.method,
      budget: call.budget,
      maxBudget: Math.min(maxBudget, CERTIFY_MAX_FACTOR * (start ?? ex.players.names.length * 2 + 2048)),
    });
    exp = res.explanation;
    report = res.report;
    certification = res.certification;
  } else {
    exp = await ex.explain(input, call);
    report = reasonCodes(exp, reasonOptions);
  }
  let rec: RecourseReport | undefined;
  if (request.recourse) {
    const settings = typeof request.recourse === 'object' ? request.recourse : {};
    const model: Model = {
      nInputs: ex.nInputs,
      outputNames: ex.outputs,
      inputType: 'float64',
      predict: async (rows, nRows, signal) =>
        (await ex.predict({ data: Float64Array.from(rows), nRows }, { signal })).predictions,
    };
    rec = await recourse(model, input as Dataset, {
      schema,
      threshold: reasons.threshold,
      adverse: reasons.adverse,
      count: settings.count ?? RECOURSE_DEFAULTS.count,
      maxChanges: settings.maxChanges ?? RECOURSE_DEFAULTS.maxChanges,
      budget: settings.budget ?? RECOURSE_DEFAULTS.budget,
      seed: exp.meta.seed,
      background,
      explanation: exp,
      signal: call.signal,
    });
  }
  return { exp, report, certification, recourse: rec };
}
