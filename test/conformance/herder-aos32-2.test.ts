import { describeRandomTraces } from './random-traces.ts';

describeRandomTraces('aos32', 2, 2);
