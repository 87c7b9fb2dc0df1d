import type { SequenceLayout } from '../data/sequences.js';
import type { Explanation } from './explanation.js';

/** What "absent" positions are replaced by. */
export type SequenceReference = 'background' | 'shuffle' | 'uniform' | 'zeros';

/** What a sequence explanation adds to an {@link Explanation}. */
export interface SequenceInfo {
  readonly alphabet: string;
  readonly letters: string;
  readonly layout: SequenceLayout;
  readonly length: number;
  readonly ids: readonly string[];
  readonly sequences: readonly string[];
  readonly players: 'position' | 'window' | 'hierarchy';
  /** Each player's positions `[start, end)` (0-based, end exclusive), in player order. */
  readonly spans: readonly (readonly [number, number])[];
  readonly reference: SequenceReference | 'none';
  /** Overlapping windows: how many shifted tilings were explained. */
  readonly tilings?: number;
  /**
   * Per sequence: the index in the original (unpadded, uncropped) sequence of position 0 —
   * negative when padded on the left. Present when a length policy changed a sequence.
   */
  readonly origins?: readonly number[];
  /** Per sequence: its label (a label column of the input), when the input has one. */
  readonly labels?: readonly string[];
  /** Positions are numbered from this anchor offset (the first letter is offset + 1, 0 skipped). */
  readonly positionOffset?: number;
  /** ISM: the mean-centred L × A matrix per row (`nRows × L × A × nOutputs`). */
  readonly hypothetical?: Float64Array;
}

/** A Shapley / Owen / ISM explanation of sequences, players in sequence order. */
export interface SequenceExplanation extends Explanation {
  readonly sequence: SequenceInfo;
}
