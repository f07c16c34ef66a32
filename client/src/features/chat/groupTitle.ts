// Which group titles the server refuses (services/proto/src/validate.rs, `title`): the New group
// and Rename forms check before submitting, so their button is off and says why instead of the
// request failing. Same steps in the same order as the server, with the character classes
// generated from its own functions (api/generated/limits.ts: BLANK_CHARS from `shows_nothing`,
// NOT_IN_TITLE_CHARS from `not_in_title`), so the two cannot drift; groupTitle.cases.json holds
// the samples both test suites judge alike.
import { MAX_TITLE_CHARS, MIN_TITLE_CHARS, NOT_IN_TITLE_CHARS } from '../../api/generated/limits';
import { inClass, showsNothing } from './messageBody';

/** Why the server would refuse a title: nothing in it shows, it is not 1 to 100 characters, or it holds a control character or a bidirectional override. */
export type TitleFault = 'blank' | 'length' | 'control';

/**
 * The title as the server stores it: without the white space around it, as Rust's str::trim cuts
 * it (Unicode's White_Space: unlike JavaScript's trim(), it cuts U+0085 and keeps U+FEFF).
 */
export function trimTitle(title: string): string {
  return title.replace(/^\p{White_Space}+|\p{White_Space}+$/gu, '');
}

/** The fault of a title as typed (it is trimmed first, as the server does), or null when the server takes it. */
export function titleFault(title: string): TitleFault | null {
  const trimmed = trimTitle(title);
  const chars = [...trimmed];
  if (showsNothing(trimmed)) return 'blank';
  if (chars.length < MIN_TITLE_CHARS || chars.length > MAX_TITLE_CHARS) return 'length';
  if (chars.some((c) => inClass(NOT_IN_TITLE_CHARS, c.codePointAt(0)!))) return 'control';
  return null;
}

/**
 * What a title field says about its fault, or null when it needs no words: an empty box or one of
 * only spaces plainly has no name in it (as the composer says nothing of an empty message).
 */
export function titleFaultText(title: string, fault: TitleFault | null): string | null {
  if (fault === 'control') return 'A group name cannot hold control characters.';
  if (fault === 'length') return `A group name has ${MIN_TITLE_CHARS} to ${MAX_TITLE_CHARS} characters.`;
  if (fault === 'blank' && /\P{White_Space}/u.test(title)) return 'Nothing in this name would show.';
  return null;
}
