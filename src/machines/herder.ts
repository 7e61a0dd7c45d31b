/**
 * The herder as an xstate machine. Its context holds the model's `HerderState`; every incoming
 * message is one event, and the event's only action, `applyStep`, runs the model's step function
 * once (through `observeStep`), keeping the events the step reported about each worker and request.
 * Behaviour therefore has one source of truth, `src/model/herder.ts`.
 *
 * Drive it with an actor (`createActor(herderMachine, { input: { config } })`), or purely with
 * `initialTransition(herderMachine, { config })` then `transition`; xstate's `transition` builds a
 * throwaway actor without input on every call, so an actor is the cheaper way to run many messages.
 *
 * The machine's states are a projection of the model's state that the diagrams show: intake
 * (accepting or paused) and the request load (none, all running, some waiting). They are settled by
 * eventless transitions whose guards read the state the step produced; nothing is recomputed.
 */
import { assign, setup } from 'xstate';
import type { HerdConfig } from '../model/config.ts';
import type { StepEvent } from '../model/events.ts';
import { type HerderState, type HerderStepper, MODEL_STEPPER } from '../model/herder.ts';
import { Action, ADMIN_ACTIONS, type AoMessage, type OutMessage, tag } from '../model/messages.ts';
import { observeStep } from './journal.ts';

/** Message Actions the herder handles; every other message (Cron ticks, junk) is `Other`. */
export const HERDER_EVENT_TYPES = [
  Action.CreditNotice,
  Action.InferenceResponse,
  Action.InferenceError,
  Action.WorkerInitialized,
  Action.WorkerError,
  Action.Info,
  ...ADMIN_ACTIONS,
  'Other',
] as const;

export type HerderEventType = (typeof HERDER_EVENT_TYPES)[number];

export interface HerderEvent {
  readonly type: HerderEventType;
  readonly message: AoMessage;
}

const HANDLED: ReadonlySet<string> = new Set(HERDER_EVENT_TYPES);

/** The machine event for an incoming AO message. */
export function herderEvent(message: AoMessage): HerderEvent {
  const action = tag(message, 'Action');
  return {
    type: (action !== undefined && HANDLED.has(action) ? action : 'Other') as HerderEventType,
    message,
  };
}

export interface HerderContext {
  readonly herder: HerderState;
  /** What the last step sent. */
  readonly outbox: readonly OutMessage[];
  /** What the last step did to workers and requests, in order. */
  readonly events: readonly StepEvent[];
  /** The herder stepped: the model, unless a test substitutes a variant. */
  readonly stepper: HerderStepper;
}

export interface HerderInput {
  readonly config: HerdConfig;
  readonly stepper?: HerderStepper;
}

/** Every message is handled the same way: one model step. */
const onEveryMessage = Object.fromEntries(
  HERDER_EVENT_TYPES.map((type) => [type, { actions: 'applyStep' as const }]),
) as Record<HerderEventType, { actions: 'applyStep' }>;

export const herderMachine = setup({
  types: {
    context: {} as HerderContext,
    events: {} as HerderEvent,
    input: {} as HerderInput,
  },
  actions: {
    applyStep: assign(({ context, event }) => {
      const { state, outbox, events } = observeStep(context.herder, event.message, context.stepper);
      return { herder: state, outbox, events };
    }),
  },
  guards: {
    isPaused: ({ context }) => context.herder.paused,
    isAccepting: ({ context }) => !context.herder.paused,
    hasNoRequests: ({ context }) => context.herder.requests.size === 0,
    allRunning: ({ context }) => context.herder.requests.size > 0 && context.herder.queue.length === 0,
    someWaiting: ({ context }) => context.herder.queue.length > 0,
  },
}).createMachine({
  id: 'herder',
  description: 'The herder: every message is one step of the model (expire deadlines, handle, dispatch).',
  context: ({ input }) => {
    if (input === undefined) throw new Error('the herder machine needs input: { config }');
    const stepper = input.stepper ?? MODEL_STEPPER;
    return { herder: stepper.init(input.config), outbox: [], events: [], stepper };
  },
  type: 'parallel',
  on: onEveryMessage,
  states: {
    intake: {
      description: 'Whether paid requests are accepted or refunded (owner Pause / Resume).',
      initial: 'accepting',
      states: {
        accepting: {
          description: 'Valid, sufficiently paid requests are queued.',
          always: { target: 'paused', guard: 'isPaused' },
        },
        paused: {
          description: 'Every paid request is refunded with a reason; queued ones still run.',
          always: { target: 'accepting', guard: 'isAccepting' },
        },
      },
    },
    load: {
      description: 'Requests held: none, all running, or some waiting (then no healthy worker is idle).',
      initial: 'none',
      states: {
        none: {
          description: 'No request is queued or running.',
          always: [
            { target: 'waiting', guard: 'someWaiting' },
            { target: 'running', guard: 'allRunning' },
          ],
        },
        running: {
          description: 'Every live request is on a worker; the queue is empty.',
          always: [
            { target: 'waiting', guard: 'someWaiting' },
            { target: 'none', guard: 'hasNoRequests' },
          ],
        },
        waiting: {
          description: 'Some requests wait: every healthy worker is busy (work conservation).',
          always: [
            { target: 'running', guard: 'allRunning' },
            { target: 'none', guard: 'hasNoRequests' },
          ],
        },
      },
    },
  },
});
