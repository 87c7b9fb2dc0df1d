import { DataError, ShapeError } from '../errors.js';

/**
 * A numeric table: `nRows × columns.length` values in one row-major `Float64Array`
 * (value of row `r`, column `c` at `data[r * columns.length + c]`).
 */
export interface Dataset {
  readonly columns: readonly string[];
  readonly data: Float64Array;
  readonly nRows: number;
}

/** Where a dataset came from, for error messages (`file` is echoed as given). */
export interface DatasetSource {
  file?: string;
  /** 1-based line of row 0 in the source (2 for a CSV with one header line). */
  firstLine?: number;
}

/**
 * Wraps a row-major buffer as a {@link Dataset} after checking its shape and that every
 * value is finite.
 *
 * @throws {ShapeError} when `data.length` is not `nRows × columns.length`.
 * @throws {DataError} when a value is NaN or infinite (names the row and column).
 * @example
 * const ds = createDataset(['age', 'income'], new Float64Array([30, 2.5, 41, 3.1]));
 * ds.nRows; // 2
 */
export function createDataset(
  columns: readonly string[],
  data: Float64Array | readonly number[],
  source: DatasetSource = {},
): Dataset {
  if (columns.length === 0) throw new ShapeError('a dataset needs at least one column');
  const seen = new Set<string>();
  for (const name of columns) {
    if (seen.has(name))
      throw new DataError(`duplicate column name ${JSON.stringify(name)}: column names must be unique`, {
        file: source.file,
      });
    seen.add(name);
  }
  const values = data instanceof Float64Array ? data : Float64Array.from(data);
  if (values.length % columns.length !== 0)
    throw new ShapeError(`data has ${values.length} values, which is not a multiple of the ${columns.length} columns`);
  assertFinite(values, columns, source);
  return { columns: [...columns], data: values, nRows: values.length / columns.length };
}

/**
 * Checks that every value of a row-major buffer is finite.
 * @throws {DataError} naming the first offending row and column.
 */
export function assertFinite(
  data: Float64Array | Float32Array,
  columns: readonly string[] | number,
  source: DatasetSource & { what?: string } = {},
): void {
  const nCols = typeof columns === 'number' ? columns : columns.length;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isFinite(v)) {
      const row = Math.floor(i / nCols);
      const col = i - row * nCols;
      const columnName = typeof columns === 'number' ? undefined : columns[col];
      throw new DataError(
        `${source.what ?? 'value'} is ${v} (row ${row}); every input value must be a finite number — impute or drop missing values first`,
        {
          file: source.file,
          line: source.firstLine !== undefined ? source.firstLine + row : undefined,
          column: col + 1,
          columnName,
        },
      );
    }
  }
}

/** Rows `start..end-1` as a new dataset sharing no memory with the original. */
export function sliceRows(ds: Dataset, start: number, end = ds.nRows): Dataset {
  const d = ds.columns.length;
  const s = Math.max(0, Math.min(start, ds.nRows));
  const e = Math.max(s, Math.min(end, ds.nRows));
  return { columns: ds.columns, data: ds.data.slice(s * d, e * d), nRows: e - s };
}

/** The given rows (in the given order) as a new dataset. */
export function selectRows(ds: Dataset, indices: ArrayLike<number>): Dataset {
  const d = ds.columns.length;
  const out = new Float64Array(indices.length * d);
  for (let k = 0; k < indices.length; k++) {
    const r = indices[k];
    if (!Number.isInteger(r) || r < 0 || r >= ds.nRows)
      throw new ShapeError(`row index ${r} is out of range 0..${ds.nRows - 1}`);
    out.set(ds.data.subarray(r * d, r * d + d), k * d);
  }
  return { columns: ds.columns, data: out, nRows: indices.length };
}

/** A view (no copy) of row `r`. */
export function rowView(ds: Dataset, r: number): Float64Array {
  const d = ds.columns.length;
  return ds.data.subarray(r * d, r * d + d);
}
