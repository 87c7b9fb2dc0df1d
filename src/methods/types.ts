/**
 * What a method *is*, written down once: its options (with defaults, validation, CLI flags
 * and HTTP fields), the shared options it takes, the axioms it claims, what inputs it needs
 * and how it runs. `explain()`, `createExplainer`, the CLI, the service and whybox/testing
 * all read these descriptors (see `registry.ts`); nothing else lists methods.
 */
import type { Claim } from './claims.js';

/** How an option's value is typed and checked. */
export type OptionKind =
  /** An integer within [min, max]. */
  | 'integer'
  /** A finite number within [min, max] (`positive`: > 0). */
  | 'number'
  | 'boolean'
  /** One of `values`. */
  | 'enum'
  /** An integer ≥ 2, or `'auto'` when `auto` is set. */
  | 'budget'
  /** A list of strings (CLI: comma-separated). */
  | 'list'
  /** Library only: an object (a hierarchy...). */
  | 'object'
  /** Library only: a function. */
  | 'function';

/** One option of a method (or a shared option). */
export interface OptionSpec {
  /** The library option name (`numSamples`). */
  readonly name: string;
  readonly kind: OptionKind;
  /** One line of help (CLI help, HTTP field description, TSDoc). */
  readonly help: string;
  /** The default as shown in help (`'2 x players + 2048'`), when there is one. */
  readonly default?: string;
  /** `enum`: the allowed values. */
  readonly values?: readonly string[];
  /** `integer` / `number`: smallest allowed value (inclusive). */
  readonly min?: number;
  /** `integer` / `number`: largest allowed value (inclusive). */
  readonly max?: number;
  /** `number`: must be > 0. */
  readonly positive?: boolean;
  /** `budget`: `'auto'` is allowed. */
  readonly auto?: boolean;
  /** CLI flag without the dashes. @defaultValue the kebab-case name; `null` = library only */
  readonly flag?: string | null;
  /** Offered in the HTTP request body. @defaultValue true for scalar kinds and lists */
  readonly http?: boolean;
}

/** What inputs a method explains. */
export type InputKind = 'tabular' | 'sequences';

/** Shared option groups a method takes (their options are in `options.ts`). */
export type SharedGroup =
  /** background, groups, players (every tabular method). */
  | 'inputs'
  /** backgroundWeights, summarize, dedupe: interventional masking against the background. */
  | 'interventional'
  /** threads, pool, concurrency: the worker pool. */
  | 'parallel';

/** A per-method limit of the HTTP service (configurable in `limits`). */
export interface ServiceLimit {
  /** Key in the service's `limits` (`maxExactPlayers`). */
  readonly key: string;
  readonly default: number;
  readonly help: string;
  /** A message when the request is over the limit, else undefined. */
  check(
    limit: number,
    request: { readonly nPlayers: number; readonly options: Record<string, unknown> },
  ): { readonly field: string; readonly message: string } | undefined;
}

/**
 * A method descriptor. `R` is the function that runs it (kept opaque here so descriptors
 * do not depend on the engine's types; `registry.ts` fixes it).
 */
export interface MethodDescriptor<R = unknown> {
  readonly name: string;
  /** One line for `--help` and the OpenAPI description. */
  readonly summary: string;
  /** 'game': an estimator over a value function (Shapley family); 'model': an explainer over the model. */
  readonly kind: 'game' | 'model';
  /** The method's own options. */
  readonly options: readonly OptionSpec[];
  /** The shared option groups it takes (options of other groups are refused). */
  readonly shared: readonly SharedGroup[];
  /** Inputs it explains. */
  readonly inputs: readonly InputKind[];
  /** Whether it needs background rows. */
  readonly background: 'required' | 'none';
  /** Players must be single columns (gradients have no derivative for a group); the generic suites read this. */
  readonly singleColumnPlayers?: boolean;
  /** Most players it accepts (exact: 24). */
  readonly maxPlayers?: number;
  /** What the model must be when not any model (method 'tree': an ONNX tree ensemble); suites over any model skip such methods. */
  readonly requires?: string;
  /** What its values guarantee for these (resolved) options. */
  claims(options: Record<string, unknown>): readonly Claim[];
  /** Cross-option checks after each option passed its own (`tolerance` needs `budget: 'auto'`...). */
  check?(options: Record<string, unknown>): void;
  /** What to use instead, per option this method refuses (`budget` → `numSamples` for LIME). */
  readonly insteadOf?: Readonly<Record<string, string>>;
  /** Limits the service applies to this method. */
  readonly serviceLimits?: readonly ServiceLimit[];
  /** Runs the method. */
  readonly run: R;
}
