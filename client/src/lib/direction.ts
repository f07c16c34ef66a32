// Which way a text runs, as the browser's dir="auto" decides it: by its first strong letter.

/** Letters of right-to-left scripts: Hebrew, Arabic, Syriac, Thaana, N'Ko and their presentation forms, and the RTL planes above. */
const RTL_LETTER = /[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF\u{10800}-\u{10FFF}\u{1E800}-\u{1EFFF}]/u;

/** Whether the first letter of `text` (digits, punctuation and emoji are neutral) is of a right-to-left script. */
export function startsRightToLeft(text: string): boolean {
  const first = /\p{L}/u.exec(text);
  return first !== null && RTL_LETTER.test(first[0]);
}
