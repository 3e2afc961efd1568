/**
 * Public API of the library behind the notebooks. Notebooks import the
 * compiled form: `import { ... } from '../dist'`.
 */
export * from './matrix';
export * from './params';
export * from './rng';
export * from './simulate';
export * from './preprocess';
export * from './forest';
export * from './ml-forest-adapter';
export * from './metrics';
export * from './pyformat';
export * from './artifacts';
export * from './pipeline';
export * from './stream';
export * from './csv';
export * from './display';
export * from './plots';
export * from './tables';
export * from './workspace';
export * from './notebook';
export * from './stream-view';
export * from './version';
