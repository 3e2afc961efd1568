/**
 * Public API of the library behind the notebooks. Notebooks import the
 * compiled form: `import { ... } from '../dist'`.
 */
export * from './core/matrix';
export * from './core/params';
export * from './core/rng';
export * from './data/simulate';
export * from './model/preprocess';
export * from './model/forest';
export * from './model/ml-forest-adapter';
export * from './eval/metrics';
export * from './core/pyformat';
export * from './persist/bundle';
export * from './workflow/pipeline';
export * from './stream/batch';
export * from './stream/failover-drill';
export { redisServerVersion, RedisServerMissingError } from './stream/redis-server';
export * from './data/csv';
export * from './notebook/display';
export * from './notebook/plots';
export * from './notebook/tables';
export * from './persist/workspace';
export * from './notebook/setup';
export * from './notebook/stream-dashboard';
export * from './notebook/failover-view';
export * from './core/version';
export * from './model/isolation';
export * from './model/decision-map';
export * from './workflow/protocol';
export * from './workflow/sweep';
export * from './data/textfile';
export * from './data/flows';
export * from './model/encoder';
export * from './workflow/real-traffic';
export * from './data/nslkdd-files';
export * from './explain/treeshap';
export * from './explain/contributions';
export * from './explain/alerts';
