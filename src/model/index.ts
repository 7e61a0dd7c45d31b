/** The pure protocol model: no I/O, no xstate. */
export * from './admin.ts';
export * from './amount.ts';
export * from './config.ts';
export * from './credit.ts';
export * from './deadlines.ts';
export * from './events.ts';
export * from './fees.ts';
export * from './herd.ts';
export * from './herder.ts';
export * from './ledger.ts';
export * from './messages.ts';
export * from './queue.ts';
export * from './version.ts';
export * from './worker.ts';
