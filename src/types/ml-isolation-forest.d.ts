// ml-isolation-forest 0.1.0 ships no type declarations; this is the part of its API the adapter uses.
declare module 'ml-isolation-forest' {
  export class IsolationForest {
    constructor(options?: { nEstimators?: number });
    forest: unknown[];
    train(trainingSet: number[][]): void;
    /** anomaly scores 2^(-E[h]/c(n)) in (0, 1]: higher is more abnormal */
    predict(data: number[][]): number[];
  }
}
