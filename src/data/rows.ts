/**
 * Rows given to the library — a dataset or a bare row-major buffer — and the one copy of
 * the checks every entry point applies to them (shape, at least one row, finite values)
 * and of the background built from them.
 */
import { DataError, InvalidOptionError, ShapeError } from '../errors.js';
import type { Background } from '../sampling/background.js';
import { createBackground } from '../sampling/background.js';
import type { Dataset } from './dataset.js';
import { assertFinite } from './dataset.js';

/** Rows to explain or to use as background: a dataset, or a bare row-major buffer. */
export type RowsInput = Dataset | { readonly data: Float64Array; readonly nRows: number };

/**
 * Checks rows for a model of `d` inputs (shape, at least one row, finite values); `hint`
 * ends the message of a column-count mismatch.
 */
export function checkRows(
  rows: RowsInput,
  d: number,
  what: string,
  hint = ": the CSV header must list the model's input columns",
): void {
  if (!rows || !(rows.data instanceof Float64Array) || !Number.isInteger(rows.nRows))
    throw new InvalidOptionError(what, 'a Dataset or { data: Float64Array, nRows }', rows);
  if (rows.nRows < 1) throw new DataError(`${what} holds no rows`);
  if ('columns' in rows && rows.columns && rows.columns.length !== d)
    throw new ShapeError(`${what} have ${rows.columns.length} columns but the model takes ${d} inputs${hint}`);
  if (rows.data.length !== rows.nRows * d)
    throw new ShapeError(
      `${what} hold ${rows.data.length} values; ${rows.nRows} rows of ${d} inputs need ${rows.nRows * d}`,
    );
  assertFinite(rows.data, 'columns' in rows && rows.columns ? rows.columns : d, { what: `${what} value` });
}

/** True when `bg` is a prebuilt {@link Background} (rows with weights and a summary). */
export function isBackground(bg: unknown): bg is Background {
  return typeof bg === 'object' && bg !== null && 'weights' in bg && 'summary' in bg;
}

/** A background of `d` columns from rows or a prebuilt {@link Background} (shapes checked). */
export function toBackground(
  bg: RowsInput | Background,
  weights: ArrayLike<number> | undefined,
  d: number,
): Background {
  if (!bg || typeof bg !== 'object' || !(bg.data instanceof Float64Array))
    throw new InvalidOptionError('background', 'background rows (a Dataset, { data, nRows } or a Background)', bg);
  if (isBackground(bg) && !weights) {
    if (bg.nColumns !== d) throw new ShapeError(`background has ${bg.nColumns} columns; the model takes ${d}`);
    return bg;
  }
  if ('columns' in bg && bg.columns && bg.columns.length !== d)
    throw new ShapeError(`background has ${bg.columns.length} columns; the model takes ${d}`);
  if (bg.data.length !== bg.nRows * d)
    throw new ShapeError(
      `background holds ${bg.data.length} values; ${bg.nRows} rows of ${d} inputs need ${bg.nRows * d}`,
    );
  return createBackground('columns' in bg ? (bg as Dataset) : { data: bg.data, nRows: bg.nRows, nColumns: d }, weights);
}

/** The column names of rows, when they carry them. */
export function columnsOf(rows: RowsInput | Background): string[] | undefined {
  return 'columns' in rows && Array.isArray(rows.columns) ? [...rows.columns] : undefined;
}

/** `x0, x1, ...`: names for `d` unnamed columns. */
export function defaultNames(d: number): string[] {
  return Array.from({ length: d }, (_, i) => `x${i}`);
}

/** True when two name lists are equal. */
export function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
