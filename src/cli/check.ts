/**
 * `whybox check`: sanity checks of a method's explanations of a model — a dummy column gets
 * ~0, explanations change when the model is randomised, values are stable across seeds
 * (see whybox/testing's sanity checks for the definitions).
 */
import type { SanityReport } from '../testing/sanity.js';
import { sanityChecks } from '../testing/sanity.js';
import { emit, int, UsageError, warner } from './args.js';
import type { QualityIO } from './quality-inputs.js';
import {
  COMMON_OPTIONS,
  COMMON_USAGE,
  loadQualityInputs,
  measureOptions,
  parseQualityFlags,
  positive,
} from './quality-inputs.js';

/** Exit code when the checks ran and at least one failed. */
export const CHECK_FAILED_EXIT = 3;

export const CHECK_USAGE = `Usage: whybox check --model M.onnx --data ROWS.csv --background BG.csv [options]

Sanity checks of a method's explanations of your model:
  dummy          a column the model never reads gets ~0 (a noise column is appended and
                 dropped before the model, or name one with --dummy-column)
  randomisation  explanations of a randomised surrogate of the model must differ
                 (mean Spearman rank correlation of values < threshold; Adebayo et al. 2018)
  stability      spread of each player's value over --seeds seeds, relative to mean |value|

${COMMON_USAGE}
  --dummy-column NAME      an existing column the model must ignore (a player of its own)
  --randomization R        shuffle (default: f at a background row picked by hashing x) |
                           random-weights (a random tanh network scaled to f's outputs)
  --seeds N                seeds for the stability check (default 10)
  --dummy-threshold T      largest share of |attribution| for the dummy (default 0.02)
  --randomization-threshold T  largest mean rank correlation (default 0.5)
  --stability-threshold T  largest relative spread per player (default 0.1)
  --format json|table      output format (default table)

Exit codes: 0 every check passed, 3 a check failed, 2 bad usage or bad input, 1 internal
error.
`;

const CHECK_OPTIONS = {
  ...COMMON_OPTIONS,
  'dummy-column': { type: 'string' },
  randomization: { type: 'string' },
  seeds: { type: 'string' },
  'dummy-threshold': { type: 'string' },
  'randomization-threshold': { type: 'string' },
  'stability-threshold': { type: 'string' },
} as const;

/** Runs `whybox check` with the arguments after the command name. */
export async function runCheck(args: readonly string[], io: QualityIO, signal: AbortSignal): Promise<number> {
  const flags = parseQualityFlags(args, CHECK_OPTIONS, 'check');
  if (flags.help) {
    io.stdout.write(CHECK_USAGE);
    return 0;
  }
  const format = (flags.format as string | undefined) ?? 'table';
  if (!['json', 'table'].includes(format))
    throw new UsageError(`--format must be json or table; got ${JSON.stringify(format)}`);
  const randomization = (flags.randomization as string | undefined) ?? 'shuffle';
  if (randomization !== 'shuffle' && randomization !== 'random-weights')
    throw new UsageError(`--randomization must be shuffle or random-weights; got ${JSON.stringify(randomization)}`);
  const seeds = flags.seeds === undefined ? undefined : int(flags.seeds as string, '--seeds', 2);
  const th = (k: string) => (flags[k] === undefined ? undefined : positive(flags[k] as string, `--${k}`));
  const inputs = await loadQualityInputs(flags, 'check', warner(io, flags.quiet === true));
  try {
    const report = await sanityChecks(inputs.model, inputs.rows, {
      ...measureOptions(inputs),
      dummyColumn: flags['dummy-column'] as string | undefined,
      randomization,
      seeds,
      thresholds: {
        dummy: th('dummy-threshold'),
        randomization: th('randomization-threshold'),
        stability: th('stability-threshold'),
      },
      signal,
    });
    const method = (flags.method as string | undefined) ?? 'kernel';
    const text =
      format === 'json'
        ? `${JSON.stringify({ ...report, method, attributionMethod: report.method, seed: inputs.seed }, null, 2)}\n`
        : checkTable(report, inputs.methodName);
    await emit(text, flags.out as string | undefined, io);
    return report.passed ? 0 : CHECK_FAILED_EXIT;
  } finally {
    await inputs.close();
  }
}

const mark = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
const f4 = (v: number | null) => (v === null ? 'n/a' : v.toFixed(4));

function checkTable(r: SanityReport, methodName: string): string {
  const { dummy, randomization: rnd, stability: st } = r;
  const lines = [
    `whybox check: ${methodName}, ${r.rows} row(s) — ${r.passed ? 'all checks passed' : 'a check FAILED'}`,
    '',
    `${mark(dummy.passed)}  dummy column ${JSON.stringify(dummy.column)}${dummy.synthetic ? ' (synthetic noise)' : ''}: largest share of |attribution| ${f4(dummy.maxShare)} (threshold ${dummy.threshold}), largest |value| ${dummy.maxAbs.toExponential(3)}`,
    `${mark(rnd.passed)}  model randomisation (${rnd.randomization}): mean rank correlation of values ${f4(rnd.meanRankCorrelation)} (threshold ${rnd.threshold}; of |values| ${f4(rnd.meanAbsRankCorrelation)})`,
    `${mark(st.passed)}  stability over ${st.seeds} seeds: largest relative spread ${f4(st.maxRelativeSpread)} (threshold ${st.threshold})`,
    '',
    '  player                      spread (s.d.)   relative',
  ];
  st.players.forEach((p, i) => {
    lines.push(
      `  ${p.padEnd(26).slice(0, 26)}  ${st.spread[i].toExponential(3).padStart(13)}   ${st.relativeSpread[i].toFixed(4)}`,
    );
  });
  return `${lines.join('\n')}\n`;
}
