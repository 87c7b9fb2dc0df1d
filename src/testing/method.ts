/**
 * The attribution-method interface of whybox/testing: anything that turns a cooperative game
 * (and, when the game comes from a model, the model, explained row and background) into one
 * value per player. whybox's estimators plug in through {@link shapleyMethod}, `explain()`
 * methods (including ones that work on the model, such as LIME) through {@link fromExplain},
 * and a user's own estimator through {@link defineMethod}.
 */
import type { Players } from '../data/players.js';
import { InvalidOptionError } from '../errors.js';
import type { KernelVariant } from '../estimators/kernel.js';
import { KERNEL_VARIANTS } from '../estimators/kernel.js';
import type { ExplainOptions } from '../explain.js';
import { checkMethodOptions, explain } from '../explain.js';
import type { Game } from '../games/game.js';
import type { Claim } from '../methods/claims.js';
import { CLAIMS } from '../methods/claims.js';
import { getMethod, METHODS } from '../methods/registry.js';
import type { Model } from '../models/model.js';
import type { Background } from '../sampling/background.js';
import { Rng } from '../sampling/rng.js';

export type { Claim } from '../methods/claims.js';
export { CLAIMS } from '../methods/claims.js';

/** Where a game comes from when it is a model's interventional game. */
export interface ModelTask {
  readonly model: Model;
  /** The explained row (`nColumns` values). */
  readonly x: Float64Array;
  readonly background: Background;
  /** The players (columns or groups of columns) of the game. */
  readonly players: Players;
}

/** One attribution problem: always a game; a model task too when the game comes from a model. */
export interface AttributionTask {
  readonly game: Game;
  /** Present when the game is v(S) = Σ_b w_b f(x_S, b_rest) of `model.model`. */
  readonly model?: ModelTask;
}

/** Options of {@link AttributionMethod.attribute}. */
export interface AttributeOptions {
  /**
   * Coalition values (or model-evaluation units) the method may spend; `undefined` = the
   * method's default. Exact methods ignore it.
   */
  readonly budget?: number;
  /** Seed of every random draw (same seed and game ⇒ same values). */
  readonly seed: number;
  readonly signal?: AbortSignal;
}

/** The values a method returns. */
export interface Attribution {
  /** `nPlayers × nOutputs`, row-major. */
  readonly values: Float64Array;
  /** Standard errors, same layout, when the method estimates them. */
  readonly stderr?: Float64Array;
}

/**
 * An attribution method under test. `attribute` must not keep state between calls that
 * changes its values (the properties call it many times, in any order).
 */
export interface AttributionMethod {
  /** Shown in property failures and reports. */
  readonly name: string;
  /** What the method guarantees (see {@link Claim}); {@link claimedProperties} checks exactly these. */
  readonly claims: readonly Claim[];
  /**
   * True when the method needs the model task (it perturbs the model's inputs itself, as
   * LIME does): properties then draw model cases only, never bare games.
   * @defaultValue false
   */
  readonly needsModel?: boolean;
  attribute(task: AttributionTask, options: AttributeOptions): Promise<Attribution>;
}

/**
 * Names accepted by {@link shapleyMethod}: a registered game method (`'exact'`,
 * `'permutation'`, `'kernel'`, `'partition'`, ...) or a Kernel SHAP variant by name
 * (`'leverage'`, `'msr'`, `'shap'`, `'decomposed'`; the variant `'kernel'` is
 * `shapleyMethod('kernel', { variant: 'kernel' })`).
 */
export type ShapleyMethodName = string;

/** Options of {@link shapleyMethod}. */
export interface ShapleyMethodOptions {
  /**
   * Budget used when the caller passes none. @defaultValue the estimator's default
   * (2 · players + 2048)
   */
  budget?: number;
  /** Permutation: antithetic pairs. @defaultValue true */
  antithetic?: boolean;
  /** Kernel variant when the name is `'kernel'`. @defaultValue 'decomposed' */
  variant?: KernelVariant;
}

/**
 * One of whybox's registered game methods (estimators over a game) as an
 * {@link AttributionMethod}; its claims are the registry's (see each method's descriptor in
 * `src/methods/`).
 */
export function shapleyMethod(name: ShapleyMethodName, options: ShapleyMethodOptions = {}): AttributionMethod {
  const variants: readonly string[] = KERNEL_VARIANTS;
  const games = METHODS.filter((m) => m.run.estimate).map((m) => m.name);
  const isVariant = variants.includes(name) && !games.includes(name);
  if (!games.includes(name) && !isVariant)
    throw new InvalidOptionError('name', `one of ${[...games, ...KERNEL_VARIANTS].join(', ')}`, name);
  const desc = getMethod(isVariant ? 'kernel' : name);
  const fixedBudget = options.budget;
  if (fixedBudget !== undefined && (!Number.isInteger(fixedBudget) || fixedBudget < 2))
    throw new InvalidOptionError('budget', 'an integer >= 2', fixedBudget);
  if (options.variant !== undefined && (name !== 'kernel' || !variants.includes(options.variant)))
    throw new InvalidOptionError(
      'variant',
      `one of ${KERNEL_VARIANTS.join(', ')}, with the name 'kernel'`,
      options.variant,
    );
  const variant: KernelVariant | undefined =
    desc.name !== 'kernel' ? undefined : isVariant ? (name as KernelVariant) : (options.variant ?? 'decomposed');
  const base: Record<string, unknown> = {};
  if (variant !== undefined) base.variant = variant;
  if (options.antithetic !== undefined) base.antithetic = options.antithetic;
  checkMethodOptions(desc, { ...base, budget: fixedBudget });
  const claims = [...desc.claims({ ...base, budget: fixedBudget })];
  const label = desc.name === 'kernel' ? `kernel/${variant}` : desc.name;
  const estimate = desc.run.estimate as NonNullable<typeof desc.run.estimate>;
  const takesBudget = desc.options.some((o) => o.name === 'budget');
  return {
    name: fixedBudget === undefined ? label : `${label} (budget ${fixedBudget})`,
    claims,
    async attribute(task, opts) {
      const ctx = { rng: Rng.fromSeed(opts.seed), signal: opts.signal };
      const budget = opts.budget ?? fixedBudget;
      const est = await estimate(task.game, takesBudget ? { ...base, budget } : base, ctx);
      return { values: est.values, stderr: est.exact ? undefined : est.stderr };
    },
  };
}

/**
 * Every registered tabular method as an {@link AttributionMethod} with the registry's
 * claims: game methods through {@link shapleyMethod}, explainers over a model (LIME...)
 * through {@link fromExplain} — the list the contract suites run over.
 */
export function registeredMethods(): AttributionMethod[] {
  return METHODS.filter((m) => m.inputs.includes('tabular')).map((m) =>
    m.run.estimate
      ? shapleyMethod(m.name)
      : fromExplain({ name: m.name, explain: { method: m.name }, claims: m.claims({}) }),
  );
}

/** Options of {@link fromExplain}. */
export interface FromExplainOptions {
  /** Name shown in failures. @defaultValue the method name */
  name?: string;
  /** What the method guarantees. @defaultValue none */
  claims?: readonly Claim[];
  /** explain() options other than the background, players, budget and seed (fixed per task). */
  explain?: Omit<ExplainOptions, 'background' | 'backgroundWeights' | 'players' | 'groups' | 'seed' | 'signal'>;
}

/**
 * A method run through the public {@link explain} on the model task (one row), for methods
 * that need the model rather than the game — `explain`'s `method: 'lime'` (the background
 * rows are its training data), or any explain() configuration. `needsModel` is true:
 * properties use model cases.
 *
 * @example
 * const lime = fromExplain({ name: 'lime', explain: { method: 'lime', lime: { numSamples: 2000 } } });
 */
export function fromExplain(options: FromExplainOptions = {}): AttributionMethod {
  const config = options.explain ?? {};
  return {
    name: options.name ?? config.method ?? 'kernel',
    claims: [...(options.claims ?? [])],
    needsModel: true,
    async attribute(task, opts) {
      if (!task.model)
        throw new InvalidOptionError(
          'task.model',
          'a model task (this method runs explain() on a model)',
          undefined,
          'use model cases, or a game-level method such as shapleyMethod()',
        );
      const { model, x, background, players } = task.model;
      const desc = getMethod(config.method ?? 'kernel');
      const budget = desc.options.some((o) => o.name === 'budget') ? (opts.budget ?? config.budget) : undefined;
      const parallel = desc.shared.includes('parallel');
      const exp = await explain(
        model,
        { data: x, nRows: 1 },
        {
          ...config,
          budget,
          background,
          players,
          seed: opts.seed,
          ...(parallel ? { threads: 1 } : {}),
          signal: opts.signal,
          onWarning: () => undefined,
        },
      );
      return { values: exp.values, stderr: exp.stderr };
    },
  };
}

/** Options of {@link defineMethod}. */
export interface DefineMethodOptions {
  /** @defaultValue false */
  needsModel?: boolean;
}

/**
 * Wraps a user's estimator function as an {@link AttributionMethod}.
 *
 * @example
 * const mine = defineMethod('my-shap', ['efficiency', 'dummy'], async ({ game }, { budget, seed }) => ({
 *   values: await myEstimator(game, budget, seed),
 * }));
 */
export function defineMethod(
  name: string,
  claims: readonly Claim[],
  attribute: AttributionMethod['attribute'],
  options: DefineMethodOptions = {},
): AttributionMethod {
  if (typeof name !== 'string' || name === '') throw new InvalidOptionError('name', 'a non-empty string', name);
  for (const c of claims)
    if (!CLAIMS.includes(c)) throw new InvalidOptionError('claims', `a list of ${CLAIMS.join(', ')}`, c);
  if (typeof attribute !== 'function') throw new InvalidOptionError('attribute', 'a function', attribute);
  return { name, claims: [...claims], needsModel: options.needsModel ?? false, attribute };
}
