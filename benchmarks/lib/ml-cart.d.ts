/** Minimal types of ml-cart 2.x (the package ships none), for the side-by-side benchmark only. */
declare module 'ml-cart' {
  export interface CartOptions {
    gainFunction?: 'gini' | 'regression';
    splitFunction?: 'mean';
    minNumSamples?: number;
    maxDepth?: number;
  }
  export class DecisionTreeRegression {
    constructor(options?: CartOptions);
    train(X: number[][], y: number[]): void;
    predict(X: number[][]): number[];
  }
  export class DecisionTreeClassifier {
    constructor(options?: CartOptions);
    train(X: number[][], y: number[]): void;
    predict(X: number[][]): number[];
  }
}
