import type { LocalNetwork, LogEntry } from '../../src/ao/network.ts';
import type { AoTag } from '../../src/ao/tags.ts';

/** Tags of a log entry as a name → value map (first of each name). */
export function tagMap(tags: readonly AoTag[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tags) if (!(t.name in out)) out[t.name] = t.value;
  return out;
}

/** Deliveries (and external messages) carrying `Action = action`, optionally to `to`. */
export function withAction(net: LocalNetwork, action: string, to?: string): LogEntry[] {
  return net.log.filter(
    (e) => e.kind !== 'spawn' && tagMap(e.tags).Action === action && (to === undefined || e.to === to),
  );
}

/** Lua for a counter process: `Bump` increments, replies, and raises when tag Fail is set. */
export const COUNTER_LUA = `
Counter = Counter or 0
Handlers.add('bump', function(m) return m.Tags.Action == 'Bump' end, function(m)
  Counter = Counter + 1
  ao.send({ Target = m.From, Action = 'Bumped', Data = tostring(Counter) })
  if m.Tags.Fail then error('bump failed on purpose') end
end)
Handlers.add('seen', function(m) return m.Tags.Action == 'Seen' end, function(m)
  Seen = Seen or {}
  table.insert(Seen, { From = m.From, Owner = m.Owner, FromProcess = m.Tags['From-Process'] or '',
    Cron = tostring(m.Cron), Timestamp = m.Timestamp })
end)
`;
