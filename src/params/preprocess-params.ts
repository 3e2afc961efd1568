/**
 * Parameter rules of the preprocessing models, checked by `PCAModel.fit`,
 * `PCAModel.fromJSON` and the experiment parameter parser (`params/params`).
 * StandardScaler has no parameters: it always centres and scales, like
 * scikit-learn's defaults (with_mean=True, with_std=True).
 */
import { freezeRules, integerInterval, type ParameterRules } from './constraints';

/**
 * PCA keeps an integer number of components, at least one and (checked against
 * the data, so not part of the table) at most the number of features.
 * scikit-learn also accepts a variance fraction, "mle" or None: not offered here.
 */
export const PCA_PARAMETER_RULES: ParameterRules<'nComponents'> = freezeRules({
  nComponents: {
    description: 'principal components kept (at most the number of features)',
    constraints: [integerInterval(1, null)],
  },
});
