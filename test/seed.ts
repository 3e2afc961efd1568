import { parseDatasetCsv } from '../src/data/csv';
import type { Dataset } from '../src/data/simulate';
import { readFixtureJson, readFixtureText } from './fixtures';

export interface SklearnSeedReference {
  scaler_mean: number[];
  scaler_scale: number[];
  pca_components: number[][];
  pca_explained_variance_ratio: number[];
  isolation_forest: {
    offset: number;
    roc_auc: number;
    average_precision: number;
    n_flagged: number;
    classification_report: string;
  };
}

let cached: Dataset | undefined;

/** The reference script's exact data (numpy seed 42), read once per test file. */
export function seedData(): Dataset {
  cached ??= parseDatasetCsv(readFixtureText('seed', 'seed_data.csv'), 'seed_data.csv');
  return cached;
}

export function seedReference(): SklearnSeedReference {
  return readFixtureJson<SklearnSeedReference>('seed', 'sklearn_reference.json');
}
