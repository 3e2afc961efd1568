/**
 * The notebooks' charts, one import away: rendering (`vega.ts`), the parts every
 * spec shares (`spec-parts.ts`) and the specs by subject (`traffic-plots.ts`,
 * `evaluation-plots.ts`, `stream-plots.ts`). This file only hands their names on.
 */
export * from './vega';
export { SCHEMA, COLORS, CONFIG } from './spec-parts';
export * from './traffic-plots';
export * from './evaluation-plots';
export * from './stream-plots';
export type { SweepRow } from '../workflow/sweep';
