// Marks the words of a search result that match the query, the way the server matches them:
// letter case and accents ignored, whole words, the last word of the query also as a prefix;
// each emoji a word of its own whatever its skin tone, a flag (two regional indicators) one word.

export type Part = { text: string; match: boolean };

/** Lower case, without accents, skin tones or presentation selectors (a keycap keeps its mark). */
export function fold(word: string): string {
  return word
    .normalize('NFD')
    .replace(/(?!\u20E3)[\p{M}\p{Emoji_Modifier}]/gu, '')
    .toLowerCase();
}

// An emoji (a flag, a keycap, or a pictograph with its skin tone, presentation selector and
// subdivision tags), or a run of letters, digits and marks. A zero-width joiner separates, and
// a run ends where a keycap begins (its digit and marks would otherwise be the run's: `x1️⃣`).
const WORD =
  /\p{Regional_Indicator}{1,2}|[0-9#*]\uFE0F?\u20E3|\p{Extended_Pictographic}[\p{Emoji_Modifier}\uFE0E\uFE0F\u{E0020}-\u{E007F}]*|(?:(?![0-9#*]\uFE0F?\u20E3)[\p{L}\p{N}\p{M}])+/gu;

export function queryTerms(q: string): string[] {
  return (q.match(WORD) ?? []).map(fold).filter(Boolean);
}

export function highlight(text: string, q: string): Part[] {
  const terms = queryTerms(q);
  if (terms.length === 0) return [{ text, match: false }];
  const last = terms[terms.length - 1]!;
  const whole = new Set(terms);
  const parts: Part[] = [];
  let at = 0;
  for (const m of text.matchAll(WORD)) {
    const w = fold(m[0]);
    if (!whole.has(w) && !w.startsWith(last)) continue;
    if (m.index > at) parts.push({ text: text.slice(at, m.index), match: false });
    parts.push({ text: m[0], match: true });
    at = m.index + m[0].length;
  }
  if (at < text.length) parts.push({ text: text.slice(at), match: false });
  return parts;
}
