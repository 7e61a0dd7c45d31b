import { describeRandomTraces } from './random-traces.ts';

describeRandomTraces('aos32', 1, 2);
