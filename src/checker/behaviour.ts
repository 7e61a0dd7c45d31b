/**
 * What "behave alike" compares of a step, for the tools that judge the encoding
 * (test/checker/quotient.test.ts checks that states named alike behave alike;
 * bench/refinement.ts measures how many behave alike yet are named apart).
 */
import type { OutMessage } from '../model/messages.ts';
import { TOKEN } from './bounds.ts';

/**
 * The messages a step sent, in any order: what each is, to whom (a worker by name, or `worker`
 * when workers are renamed away; the token; or a payer), with its amount and reason. Ids are left
 * out: they differ from run to run.
 */
export function messagesSent(
  workers: readonly string[],
  outbox: readonly OutMessage[],
  renamed: boolean,
): string {
  const to = (target: string) =>
    workers.includes(target) ? (renamed ? 'worker' : target) : target === TOKEN ? TOKEN : 'payer';
  return outbox
    .map((m) => `${m.tags.Action}>${to(m.target)}:${m.tags.Quantity ?? ''}:${m.tags['X-Reason'] ?? ''}`)
    .sort()
    .join('+');
}
