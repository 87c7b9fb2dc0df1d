/**
 * Runs the benchmarks: `npm run bench` (all) or `npm run bench -- <name> [--quick]`.
 * Each prints its table and writes benchmarks/results/<name>.json; figures go to
 * benchmarks/README.md by hand, with the command that produced them.
 */
const ALL = [
  'permutation',
  'onnx-throughput',
  'overhead',
  'exact',
  'accuracy',
  'german',
  'parallel',
  'soak',
  'credit',
  'sequences',
  'lime-surrogate',
  'quality',
  'service',
  'kernel-scale',
  'sensitivity',
  'tree',
  'batch',
] as const;
const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const chosen = args.length > 0 ? args : [...ALL];
for (const name of chosen) {
  if (!(ALL as readonly string[]).includes(name)) {
    console.error(`unknown benchmark ${JSON.stringify(name)}; choose from ${ALL.join(', ')}`);
    process.exit(2);
  }
}
for (const name of chosen) {
  console.log(`\n# ${name}  (node ${process.version}, ${new Date().toISOString()})`);
  await import(`./${name}.ts`);
}
