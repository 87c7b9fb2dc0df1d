import { InvalidOptionError } from '../../errors.js';
import { importOptional } from '../../optional-deps.js';
import type { VegaLiteSpec } from './specs.js';

/**
 * Renders a Vega-Lite spec to an SVG string in Node (no browser, no canvas, no network: the
 * specs carry their data inline and the loader refuses any URL). `vega` and `vega-lite` are
 * imported on first use, so code that never renders does not load them.
 * vega and vega-lite are optional peer dependencies: add them with `npm install vega vega-lite`.
 * @throws {InvalidOptionError} when the spec does not compile.
 * @throws {MissingDependencyError} when vega or vega-lite is not installed.
 */
export async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  const [vega, vl] = await importOptional('plots', () => Promise.all([import('vega'), import('vega-lite')]));
  let compiled: unknown;
  try {
    compiled = vl.compile(spec as never).spec;
  } catch (error) {
    throw new InvalidOptionError('spec', 'a valid Vega-Lite spec', spec, (error as Error).message);
  }
  const noNetwork = vega.loader();
  noNetwork.load = async (uri: string) => {
    throw new InvalidOptionError('spec', 'a spec with inline data (no URLs)', uri);
  };
  const view = new vega.View(vega.parse(compiled as never), { renderer: 'none', loader: noNetwork });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
