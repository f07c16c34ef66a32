// Pure helpers over one conversation's loaded messages: an array sorted by seq, without duplicates.
import type { Message } from '../../api/types';

/** Index of the first message whose seq is >= `seq`. */
export function lowerBound(items: readonly Message[], seq: number): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (items[mid]!.seq < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Adds `incoming` to `items` in place, keeping seq order; a seq already present (the same
 * message, seen again through another path) is skipped. Returns how many were added. Appends
 * and prepends, the usual cases, cost no more than the new messages themselves.
 */
export function mergeMessages(items: Message[], incoming: readonly Message[]): number {
  if (incoming.length === 0) return 0;
  const sorted = isAscending(incoming) ? incoming : [...incoming].sort((a, b) => a.seq - b.seq);
  const first = sorted[0]!;
  const last = sorted[sorted.length - 1]!;
  if (items.length === 0 || first.seq > items[items.length - 1]!.seq) {
    let added = 0;
    let prev = items.length ? items[items.length - 1]!.seq : -Infinity;
    for (const m of sorted) {
      if (m.seq === prev) continue;
      items.push(m);
      prev = m.seq;
      added++;
    }
    return added;
  }
  if (last.seq < items[0]!.seq) {
    const unique = sorted.filter((m, i) => i === 0 || m.seq !== sorted[i - 1]!.seq);
    items.unshift(...unique);
    return unique.length;
  }
  let added = 0;
  for (const m of sorted) {
    const at = lowerBound(items, m.seq);
    if (items[at]?.seq === m.seq) continue;
    items.splice(at, 0, m);
    added++;
  }
  return added;
}

function isAscending(list: readonly Message[]): boolean {
  for (let i = 1; i < list.length; i++) if (list[i]!.seq < list[i - 1]!.seq) return false;
  return true;
}

/**
 * Moves a "synced up to" watermark forward over the messages that follow it without a hole.
 * Catch-up asks the server for everything after the result, so a message that arrived live
 * past a hole never hides the hole.
 */
export function advanceSynced(items: readonly Message[], synced: number): number {
  let i = lowerBound(items, synced + 1);
  while (i < items.length && items[i]!.seq === synced + 1) {
    synced++;
    i++;
  }
  return synced;
}
