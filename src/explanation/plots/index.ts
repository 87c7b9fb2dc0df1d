/** The plotting module: every report's plots, as Vega-Lite specs and SVG (see figure.ts). */

export type { FeatureOptions, PlayerFeature } from './features.js';
export { midRanks, playerFeature, strongestInteraction, swarm } from './features.js';
export type { Figure, PlotKind } from './figure.js';
export { figureHtml, jsonForHtml, makeFigure, PLOT_KINDS, plotSvg, REPORT_CSS, tagSvg } from './figure.js';
export type { LimeBar } from './lime-plot.js';
export { limeBars, limeSpec } from './lime-plot.js';
export type {
  DecisionOptions,
  DependenceOptions,
  DependencePanel,
  ForceSegment,
  HeatmapOptions,
  ManyRowsOptions,
  SwarmDot,
} from './shapley-plots.js';
export {
  beeswarmSpec,
  decisionSpec,
  dependencePanels,
  dependenceSpec,
  forceSegments,
  forceSpec,
  heatmapOrder,
  heatmapSpec,
} from './shapley-plots.js';
export { formatSurrogateHtml, surrogateImportanceSpec } from './surrogate-report.js';
export type { TreePlotNode } from './tree-plot.js';
export { fidelitySentence, treeLayout, treeSpec } from './tree-plot.js';
