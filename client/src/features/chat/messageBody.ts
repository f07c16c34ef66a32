// Which message bodies the server refuses for their characters (services/proto/src/validate.rs,
// `body`): the composer checks before sending, so Send is off and says why instead of a message
// failing after it left. The character classes are generated from the server's own functions
// (api/generated/limits.ts), so the two cannot drift; messageBody.cases.json holds the samples
// both test suites judge alike. Length is frameSize.ts's and the composer's business.
import { BLANK_CHARS, CONTROL_CHARS } from '../../api/generated/limits';

/** Why the server would refuse a body: nothing in it shows, or it holds a control character (NUL, escape...). */
export type BodyFault = 'blank' | 'control';

/** Whether a code point is in one of the generated character classes of limits.ts (runs of code points). */
export function inClass(ranges: readonly (readonly [number, number])[], codePoint: number): boolean {
  return ranges.some(([first, last]) => codePoint >= first && codePoint <= last);
}

/** Whether nothing in a text would show (so an empty one too): the server's `shows_nothing` for every character. */
export function showsNothing(text: string): boolean {
  return [...text].every((c) => inClass(BLANK_CHARS, c.codePointAt(0)!));
}

/**
 * The fault of a body, checked in the server's order: a control character is refused even with
 * attachments; a blank body is taken only with them. An edit is judged without (it cannot be emptied).
 */
export function bodyFault(body: string, withAttachments: boolean): BodyFault | null {
  const codePoints = [...body].map((c) => c.codePointAt(0)!);
  if (codePoints.some((c) => inClass(CONTROL_CHARS, c))) return 'control';
  if (!withAttachments && showsNothing(body)) return 'blank';
  return null;
}

/**
 * What the composer says about a body's fault, or null when it needs no words: a box empty or of
 * only spaces and line breaks plainly has nothing to send. Pasted invisible characters look the
 * same yet are something, and a control character is not seen at all: there Send being off needs
 * a reason.
 */
export function faultText(body: string, fault: BodyFault | null): string | null {
  if (fault === 'control') return 'A message cannot hold control characters.';
  if (fault === 'blank' && /\P{White_Space}/u.test(body)) return 'Nothing in this message would show.';
  return null;
}
