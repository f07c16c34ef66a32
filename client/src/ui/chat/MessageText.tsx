import { memo } from 'react';
import { linkify } from '../../lib/linkify';

/** Message text as text: React escapes it; only http(s) URLs become links, opened without an opener. */
export const MessageText = memo(function MessageText({ text, onBubble }: { text: string; onBubble: boolean }) {
  return (
    <>
      {linkify(text).map((part, i) =>
        part.kind === 'text' ? (
          <span key={i}>{part.text}</span>
        ) : (
          <a
            key={i}
            href={part.href}
            target="_blank"
            rel="noopener noreferrer"
            className={`underline underline-offset-2 break-all ${onBubble ? 'text-white decoration-white/60' : 'text-accent-600 dark:text-accent-400'}`}
          >
            {part.text}
          </a>
        ),
      )}
    </>
  );
});
