/**
 * Info → Info-Response (docs/design.md §2.8): the herder's name, prices, queue, herd and every
 * setting under its tag, and in Data a description of how to pay it, as the original sends.
 */
import type { HerdConfig, ProcessId } from './config.ts';
import { formatMultiplier } from './fees.ts';
import { Action, type OutMessage } from './messages.ts';
import { type SettingAction, settingsOf, settingTagValue } from './settings.ts';
import type { HerderState } from './state.ts';
import { MODEL_VERSION } from './version.ts';

/** What Info-Response carries in Data, as the original's did: what the herder is and how to pay it. */
export function infoDescription(token: ProcessId): string {
  return (
    `Llama-Herder: LLM inference on AO. Pay the herder in the token ${token} with X-Prompt and X-Tokens ` +
    '(and X-Reference to recognise the answer). Fee = Base-Fee + Token-Fee * (tokens + words in the prompt); ' +
    'paying more moves a request up the queue. Invalid, underpaid, failed and expired requests are refunded in full.'
  );
}

/** The tags of the settings `action` changes, each with its value in `config`. */
function settingTags(config: HerdConfig, action: SettingAction): Record<string, string> {
  return Object.fromEntries(settingsOf(action).map((s) => [s.tag, settingTagValue(config[s.name])]));
}

/**
 * The fee and limit tags of each config, built once: the owner's setting messages replace the
 * state's config with a new object, so a config's tags never change.
 */
const settingTagCache = new WeakMap<
  HerdConfig,
  { fees: Record<string, string>; limits: Record<string, string> }
>();

function cachedSettingTags(config: HerdConfig): {
  fees: Record<string, string>;
  limits: Record<string, string>;
} {
  let tags = settingTagCache.get(config);
  if (tags === undefined) {
    tags = { fees: settingTags(config, 'Set-Fees'), limits: settingTags(config, 'Set-Limits') };
    settingTagCache.set(config, tags);
  }
  return tags;
}

/**
 * Info-Response: name, prices, queue, herd and limits, and a description in Data. The tags keep
 * the order the original's clients saw: the fees first, the limits after the herd's counts.
 */
export function infoResponse(state: HerderState, target: ProcessId): OutMessage {
  const settings = cachedSettingTags(state.config);
  const { herd } = state;
  const busy = herd.busyCount;
  const unavailable = herd.size - herd.idleCount - busy;
  return {
    target,
    tags: {
      Action: Action.InfoResponse,
      Name: 'Llama-Herder',
      ...settings.fees,
      'Last-Multiplier': state.lastMultiplier === undefined ? '1' : formatMultiplier(state.lastMultiplier),
      'Queue-Length': String(state.queue.length),
      Workers: String(herd.size),
      'Idle-Workers': String(herd.idleCount),
      'Busy-Workers': String(busy),
      'Unavailable-Workers': String(unavailable),
      ...settings.limits,
      Paused: String(state.paused),
      Token: state.config.token,
      Version: MODEL_VERSION,
    },
    data: infoDescription(state.config.token),
  };
}
