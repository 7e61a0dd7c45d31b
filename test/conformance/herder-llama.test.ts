import { describeRandomTraces } from './random-traces.ts';

describeRandomTraces('llama');
