// Completing a mention in the composer: typing "@" and the start of a name in a group offers
// its members (arrows to choose, Enter or Tab to take, Escape to dismiss).
import { useId, useLayoutEffect, useState, type KeyboardEvent, type RefObject } from 'react';
import { completeMention, mentionCandidates, mentionTypedAt } from '../../lib/mentions';

type Typed = { start: number; query: string; caret: number };

/**
 * The picker's state for the composer's textarea. `text` and `setText` are the composer's;
 * `others` whom it may offer.
 */
export function useMentionPicker(
  input: RefObject<HTMLTextAreaElement | null>,
  text: string,
  setText: (text: string) => void,
  others: string[],
) {
  const id = useId();
  const [typed, setTyped] = useState<Typed | null>(null);
  const [active, setActive] = useState(0);
  const [dismissedAt, setDismissedAt] = useState<number | null>(null);
  /** Where the caret goes once the completed text is in the box: before the next key is typed. */
  const [caretTo, setCaretTo] = useState<number | null>(null);
  useLayoutEffect(() => {
    if (caretTo === null) return;
    input.current?.setSelectionRange(caretTo, caretTo);
    setCaretTo(null);
  }, [caretTo, input]);
  // Only while the text still holds what was typed: the composer also sets it itself (sent, an
  // edit begun, a draft brought back), without a caret move to follow.
  const live = typed !== null && text.slice(typed.start, typed.caret) === `@${typed.query}` && typed.start !== dismissedAt;
  const options = live ? mentionCandidates(others, typed.query) : [];
  const open = options.length > 0;
  const chosen = Math.min(active, options.length - 1);

  /** Looks at what is typed before the caret (after every change and caret move). */
  function follow() {
    const box = input.current;
    if (!box || box.selectionStart !== box.selectionEnd || others.length === 0) return setTyped(null);
    const caret = box.selectionStart;
    const found = mentionTypedAt(box.value, caret);
    if (found?.start !== typed?.start) setActive(0);
    if (found === null || found.start !== dismissedAt) setDismissedAt(null);
    setTyped(found && { ...found, caret });
  }

  function take(username: string) {
    if (!typed) return;
    const done = completeMention(text, typed.start, typed.caret, username);
    setText(done.text);
    setTyped(null);
    setCaretTo(done.caret);
    input.current?.focus();
  }

  /** Handles the keys of the open picker; says whether it did (the composer then leaves the key alone). */
  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>): boolean {
    if (!open) return false;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      const step = e.key === 'ArrowDown' ? 1 : options.length - 1;
      setActive((chosen + step) % options.length);
    } else if ((e.key === 'Enter' && !e.shiftKey) || e.key === 'Tab') {
      take(options[chosen]!);
    } else if (e.key === 'Escape') {
      setDismissedAt(typed!.start);
    } else {
      return false;
    }
    e.preventDefault();
    return true;
  }

  const optionId = (i: number) => `${id}-option-${i}`;
  // A textarea keeps its textbox role (ARIA in HTML gives it no other); these say what it controls.
  const inputProps = {
    onBlur: () => setTyped(null),
    'aria-autocomplete': 'list' as const,
    'aria-controls': open ? id : undefined,
    'aria-activedescendant': open ? optionId(chosen) : undefined,
  };

  const list = open ? (
    <ul
      id={id}
      role="listbox"
      aria-label="Mention someone"
      className="absolute bottom-full left-0 z-30 mb-2 max-h-64 w-64 max-w-full overflow-y-auto rounded-xl bg-white py-1 shadow-lg ring-1 ring-slate-200 dark:bg-slate-800 dark:ring-slate-700"
    >
      {options.map((username, i) => (
        <li
          key={username}
          id={optionId(i)}
          role="option"
          aria-selected={i === chosen}
          // Chosen before the textarea loses focus to the list.
          onMouseDown={(e) => {
            e.preventDefault();
            take(username);
          }}
          onMouseEnter={() => setActive(i)}
          className={`cursor-pointer truncate px-3 py-1.5 text-sm ${i === chosen ? 'bg-accent-100 text-accent-700 dark:bg-accent-500/30 dark:text-white' : ''}`}
        >
          @{username}
        </li>
      ))}
    </ul>
  ) : null;

  return { follow, onKeyDown, inputProps, list };
}
