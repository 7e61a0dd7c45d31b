/**
 * The messages simulated clients, workers and Cron send the herder, one object per kind, filled
 * in again for every message: the herder keeps nothing of a message but its strings (ids,
 * sender, prompt), so a run of millions of messages allocates no message objects. A message is
 * valid until the next one of its kind is made.
 */
import type { ProcessId } from '../model/config.ts';
import { Action, type AoMessage } from '../model/messages.ts';

/** Type aliases, not interfaces: a tags object must read as a `Record<string, string>`. */
type Message<Tags> = {
  id: string;
  from: ProcessId;
  timestamp: number;
  tags: Tags;
};

type CreditTags = {
  Action: string;
  Sender: string;
  Quantity: string;
  'X-Prompt': string;
  'X-Tokens': string;
};

type AnswerTags = { Action: string; 'X-Request': string };
type ErrorTags = AnswerTags & { 'X-Reason': string };

/** What a simulated worker answers (the herder forwards it as is). */
export const SIMULATED_ANSWER = 'simulated answer';
/** The X-Reason of a simulated worker's Inference-Error. */
export const SIMULATED_FAILURE = 'simulated failure';

export class Inbox {
  // Tags in the order the simulator has always written them.
  private readonly creditNotice: Message<CreditTags>;
  private readonly response: Message<AnswerTags> & { data: string };
  private readonly failure: Message<ErrorTags>;
  private readonly tick: Message<{ Action: string }>;

  constructor(token: ProcessId, owner: ProcessId) {
    this.creditNotice = {
      id: '',
      from: token,
      timestamp: 0,
      tags: { Action: Action.CreditNotice, Sender: '', Quantity: '', 'X-Prompt': '', 'X-Tokens': '' },
    };
    this.response = {
      id: '',
      from: '',
      timestamp: 0,
      tags: { Action: Action.InferenceResponse, 'X-Request': '' },
      data: SIMULATED_ANSWER,
    };
    this.failure = {
      id: '',
      from: '',
      timestamp: 0,
      tags: { Action: Action.InferenceError, 'X-Request': '', 'X-Reason': SIMULATED_FAILURE },
    };
    this.tick = { id: '', from: owner, timestamp: 0, tags: { Action: 'Cron' } };
  }

  /** A client's payment for a request, from the token. */
  credit(
    id: string,
    timestamp: number,
    sender: ProcessId,
    quantity: string,
    prompt: string,
    tokens: string,
  ): AoMessage {
    const msg = this.creditNotice;
    msg.id = id;
    msg.timestamp = timestamp;
    msg.tags.Sender = sender;
    msg.tags.Quantity = quantity;
    msg.tags['X-Prompt'] = prompt;
    msg.tags['X-Tokens'] = tokens;
    return msg;
  }

  /** A worker's answer to `request`. */
  answer(id: string, worker: ProcessId, timestamp: number, request: string): AoMessage {
    const msg = this.response;
    msg.id = id;
    msg.from = worker;
    msg.timestamp = timestamp;
    msg.tags['X-Request'] = request;
    return msg;
  }

  /** A worker's Inference-Error for `request`. */
  error(id: string, worker: ProcessId, timestamp: number, request: string): AoMessage {
    const msg = this.failure;
    msg.id = id;
    msg.from = worker;
    msg.timestamp = timestamp;
    msg.tags['X-Request'] = request;
    return msg;
  }

  /** A Cron tick from the owner. */
  cron(id: string, timestamp: number): AoMessage {
    const msg = this.tick;
    msg.id = id;
    msg.timestamp = timestamp;
    return msg;
  }
}
