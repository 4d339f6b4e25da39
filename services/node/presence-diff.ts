import type { NodeStreamInfo, PresenceChanges } from '../../libs/cluster/types.ts';

/** Entries per presence event: keeps each NATS message far below the default 1 MB payload limit. */
export const PRESENCE_CHUNK = 500;

/**
 * The changes between the presence last written and the current one: new or changed entries,
 * and `null` for streams that are gone. Empty when nothing changed.
 */
export function diffPresence(
  before: ReadonlyMap<string, NodeStreamInfo>,
  now: Readonly<Record<string, NodeStreamInfo>>,
): PresenceChanges {
  const changes: PresenceChanges = {};
  for (const [key, info] of Object.entries(now)) {
    const old = before.get(key);
    if (
      !old ||
      old.viewers !== info.viewers ||
      old.relaying !== info.relaying ||
      old.publishing !== info.publishing
    ) {
      changes[key] = info;
    }
  }
  for (const key of before.keys()) if (!Object.hasOwn(now, key)) changes[key] = null;
  return changes;
}

/** Splits changes into messages of at most `size` entries. */
export function chunkChanges(changes: PresenceChanges, size = PRESENCE_CHUNK): PresenceChanges[] {
  const entries = Object.entries(changes);
  const out: PresenceChanges[] = [];
  for (let i = 0; i < entries.length; i += size) out.push(Object.fromEntries(entries.slice(i, i + size)));
  return out;
}
