import { createRequire } from 'node:module';

/** whybox's version (from package.json; the same path resolves from src/ and dist/). */
export const VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
