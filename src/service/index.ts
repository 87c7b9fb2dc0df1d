/**
 * whybox/service — explanations over HTTP (fastify). Entry point `whybox/service`; the CLI's
 * `whybox serve` is built on it.
 */
export type { Limits, ModelConfig, ServiceConfig } from './config.js';
export { ConfigError, checkServiceConfig, DEFAULT_LIMITS, loadServiceConfig } from './config.js';
export type { ServiceFromConfigOptions } from './from-config.js';
export { serviceFromConfig } from './from-config.js';
export type { ServedModel } from './models.js';
export { loadModels } from './models.js';
export type { ServiceOptions, WhyboxService } from './server.js';
export { createService } from './server.js';
