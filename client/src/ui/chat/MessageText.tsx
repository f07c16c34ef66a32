// A message's text with its formatting (lib/markdown.ts), built from React elements: React
// escapes every string, so markup in a message is never interpreted. Only http(s) links are
// made, and they open in a new tab without an opener.
import { Fragment, memo, type ReactNode } from 'react';
import type { Block, Inline } from '../../lib/markdown';
import { splitMentions } from '../../lib/mentions';
import { useMentionable } from './mentions';

/** Colours for text on my (accent) bubble and on the others' (white or slate) bubbles. */
function tones(onBubble: boolean) {
  return onBubble
    ? { link: 'text-white decoration-white/60', code: 'bg-white/20', quote: 'border-white/60 text-white/90', mention: 'font-semibold' }
    : {
        link: 'text-accent-600 dark:text-accent-400',
        mention: 'font-semibold text-accent-700 dark:text-accent-300',
        code: 'bg-slate-900/[0.06] dark:bg-white/10',
        quote: 'border-slate-300 text-slate-600 dark:border-slate-500 dark:text-slate-300',
      };
}
/** A mention of me, on any bubble. */
const MENTION_OF_ME = 'rounded bg-amber-200 px-0.5 font-semibold text-amber-950 dark:bg-amber-300';
type Tones = ReturnType<typeof tones> & { mentions: ReturnType<typeof useMentionable> };

/** The blocks of a parsed message (parseMessage): its row parses it once, also to choose its direction. */
export const MessageText = memo(function MessageText({ blocks, onBubble }: { blocks: Block[]; onBubble: boolean }) {
  const t = { ...tones(onBubble), mentions: useMentionable() };
  return <>{blocks.map((block, i) => renderBlock(block, i, t))}</>;
});

function renderBlock(block: Block, key: number, t: Tones): ReactNode {
  switch (block.kind) {
    case 'paragraph':
      // Inline, so that the time can sit at the end of its last line.
      return <span key={key}>{renderInline(block.children, t)}</span>;
    case 'quote':
      // The bar on the side the quote starts from, whichever its direction.
      return (
        <blockquote key={key} dir="auto" className={`my-0.5 border-s-[3px] ps-2 ${t.quote}`}>
          {renderInline(block.children, t)}
        </blockquote>
      );
    case 'codeBlock':
      // Its own scrollbar: a long line must not widen the bubble past the screen. Left to right,
      // as code is: with "auto", a right-to-left comment on its first line reversed the lines' layout.
      return (
        <pre key={key} dir="ltr" className={`my-1 overflow-x-auto rounded-lg px-2 py-1.5 font-mono text-[13px] leading-snug whitespace-pre ${t.code}`}>
          <code>{block.text}</code>
        </pre>
      );
  }
}

function renderInline(nodes: Inline[], t: Tones): ReactNode[] {
  return nodes.map((node, i) => {
    switch (node.kind) {
      case 'text':
        return renderText(node.text, i, t);
      case 'code':
        return (
          <code key={i} className={`rounded px-1 py-px font-mono text-[0.875em] ${t.code}`}>
            {node.text}
          </code>
        );
      case 'link':
        return (
          <a key={i} href={node.href} target="_blank" rel="noopener noreferrer" className={`underline underline-offset-2 break-all ${t.link}`}>
            {node.text}
          </a>
        );
      case 'bold':
        return (
          <strong key={i} className="font-semibold">
            {renderInline(node.children, t)}
          </strong>
        );
      case 'italic':
        return <em key={i}>{renderInline(node.children, t)}</em>;
      case 'strike':
        return <s key={i}>{renderInline(node.children, t)}</s>;
    }
  });
}

/** Plain text, with the mentions of the conversation's members in it set apart. */
function renderText(text: string, key: number, t: Tones): ReactNode {
  if (!text.includes('@')) return text;
  return (
    <Fragment key={key}>
      {splitMentions(text, t.mentions.lookup).map((part, i) =>
        part.username === undefined ? (
          part.text
        ) : (
          <span key={i} data-mention={part.username} className={part.username === t.mentions.me ? MENTION_OF_ME : t.mention}>
            {part.text}
          </span>
        ),
      )}
    </Fragment>
  );
}
