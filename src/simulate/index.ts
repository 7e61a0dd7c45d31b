/** Discrete-event simulation of a herd over the pure model: workload, workers, metrics, charts. */
export * from './bench.ts';
export * from './charts.ts';
export * from './engine.ts';
export * from './events.ts';
export * from './options.ts';
export * from './random.ts';
export * from './report.ts';
export * from './stats.ts';
export * from './sweep.ts';
