// The server words its error messages in lower case without a full stop (they are also read in
// logs and by scripts); on screen they become sentences.

/** `text` with a capital first letter and a closing full stop (unless it ends in . ! or ?). */
export function asSentence(text: string): string {
  const t = text.trim();
  if (!t) return t;
  return `${t[0]!.toUpperCase()}${t.slice(1)}${/[.!?]$/.test(t) ? '' : '.'}`;
}

/** `n` and `noun`, plural unless `n` is one: "1 member", "3 members". */
export function counted(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
