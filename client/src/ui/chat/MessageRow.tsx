// One row of the history: a day separator when the day changes, the bubble (sender in groups,
// quoted message, attachments, text or "Message deleted", "edited", time and ticks), its
// actions, reactions and, for my messages in groups, who read them.
import { memo, useCallback, useMemo, type ReactNode } from 'react';
import type { Message, UserId } from '../../api/types';
import { useAppDispatch } from '../../app/hooks';
import type { PendingMessage } from '../../features/chat/chatSlice';
import type { Tick } from '../../features/chat/conversation';
import { pendingDiscarded } from '../../features/chat/chatSlice';
import { retryRequested } from '../../sockets/actions';
import { startsRightToLeft } from '../../lib/direction';
import { paragraphText, parseMessage } from '../../lib/markdown';
import { clockTime, dayLabel } from '../../lib/time';
import { Attachments } from './Attachments';
import { MessageActions } from './MessageActions';
import { MessageText } from './MessageText';
import { Reactions } from './Reactions';
import { ReplyQuote } from './ReplyQuote';
import { Ticks } from './Ticks';

interface Layout {
  mine: boolean;
  showDay: boolean;
  firstInGroup: boolean;
  lastInGroup: boolean;
}

interface Quote {
  names: Record<UserId, string>;
  myId: UserId | null;
  /** The answered message when it is loaded. */
  quoted: Message | undefined;
}

function DaySeparator({ at }: { at: string }) {
  return (
    <div className="flex justify-center py-3">
      <span className="rounded-full bg-slate-900/40 px-3 py-0.5 text-xs font-medium text-white backdrop-blur-sm dark:bg-slate-700/70">
        {dayLabel(at)}
      </span>
    </div>
  );
}

function Meta({ at, tick, edited }: { at: string; tick: Tick | null; edited: boolean }) {
  return (
    <>
      {edited && <span>edited</span>}
      <time dateTime={at}>{clockTime(at)}</time>
      {tick && <Ticks tick={tick} onBubble />}
    </>
  );
}

/** The bubble and what sits beside and below it. */
function Row({
  layout,
  at,
  bubbleTone,
  actions,
  below,
  children,
  attrs,
}: {
  layout: Layout;
  at: string;
  bubbleTone: string;
  actions?: ReactNode;
  below?: ReactNode;
  children: ReactNode;
  attrs: Record<string, string | number | undefined>;
}) {
  const tail = layout.lastInGroup ? (layout.mine ? 'rounded-br-md' : 'rounded-bl-md') : '';
  return (
    <div className="group/row px-3 py-px md:px-[5%] lg:px-[8%]" data-testid="message" data-mine={layout.mine ? 'true' : 'false'} {...attrs}>
      {layout.showDay && <DaySeparator at={at} />}
      <div
        className={`flex items-end gap-1.5 ${layout.mine ? 'flex-row-reverse' : ''} ${layout.firstInGroup && !layout.showDay ? 'pt-2' : ''}`}
      >
        <div className={`relative max-w-[min(34rem,85%)] min-w-0 rounded-2xl px-3 pt-1.5 pb-1.5 shadow-sm transition-shadow ${bubbleTone} ${tail}`}>
          {children}
        </div>
        {actions}
      </div>
      {below}
    </div>
  );
}

/**
 * Text with room at the end of its last line for the time (an invisible copy of it), and the time
 * itself at the bottom right. Right-to-left text (Hebrew, Arabic) ends on the left, where the time
 * would cover it: the time goes on a line of its own below it. A div, not a p: formatted text
 * holds quotes and code blocks.
 */
function Body({ text, deleted, mine, meta }: { text: string; deleted: boolean; mine: boolean; meta: ReactNode }) {
  const blocks = useMemo(() => parseMessage(text), [text]);
  // As the browser decides dir="auto": by the paragraphs, as quotes and code blocks have their own
  // direction. The raw text made "> hello\nשלום" left to right, and "> שלום\nok?" right to left.
  const rtl = !deleted && startsRightToLeft(paragraphText(blocks));
  return (
    <>
      <div dir={rtl ? 'rtl' : 'auto'} className={`text-[15px] leading-[1.35] break-words whitespace-pre-wrap ${deleted ? 'italic opacity-80' : ''}`}>
        {deleted ? 'Message deleted' : <MessageText blocks={blocks} onBubble={mine} />}
        {!rtl && (
          <span aria-hidden="true" className="invisible ml-2 inline-flex items-center gap-1 text-[11px] leading-none select-none">
            {meta}
          </span>
        )}
      </div>
      <span
        className={`${rtl ? 'mt-0.5 justify-end' : 'absolute right-2.5 bottom-1.5'} flex items-center gap-1 text-[11px] leading-none ${
          mine ? 'text-white/75' : 'text-slate-500 dark:text-slate-400'
        }`}
      >
        {meta}
      </span>
    </>
  );
}

function useSenderName(names: Record<UserId, string>, myId: UserId | null) {
  return useCallback((m: Message) => (m.senderId === myId ? 'You' : (names[m.senderId] ?? 'Someone')), [names, myId]);
}

function bubbleTone(mine: boolean, failed: boolean, highlighted: boolean): string {
  const ring = highlighted ? 'ring-4 ring-amber-400/80 dark:ring-amber-300/70' : '';
  if (mine) return `${failed ? 'bg-accent-600/70' : 'bg-accent-600'} text-white ${ring}`;
  return `bg-white text-slate-900 dark:bg-slate-800 dark:text-slate-100 ${ring}`;
}

export interface MessageRowProps extends Layout, Quote {
  message: Message;
  tick: Tick | null;
  /** Groups: the sender's name, above the first message of their run. */
  senderName: string | null;
  /** Groups, my messages: the names of those who read it, shown where they differ from my next message's. */
  readers: string[] | null;
  highlighted: boolean;
}

export const MessageRow = memo(function MessageRow(p: MessageRowProps) {
  const m = p.message;
  const deleted = m.deletedAt !== null;
  const nameOf = useSenderName(p.names, p.myId);
  return (
    <Row
      layout={p}
      at={m.sentAt}
      bubbleTone={bubbleTone(p.mine, false, p.highlighted)}
      attrs={{
        'data-seq': m.seq,
        'data-status': p.tick ?? undefined,
        'data-deleted': deleted ? 'true' : undefined,
        'data-edited': m.editedAt ? 'true' : undefined,
        'data-highlighted': p.highlighted ? 'true' : undefined,
      }}
      actions={deleted ? null : <MessageActions message={m} mine={p.mine} myId={p.myId} />}
      below={
        <>
          <Reactions conversationId={m.conversationId} seq={m.seq} reactions={m.reactions} names={p.names} myId={p.myId} mine={p.mine} />
          {p.readers && p.readers.length > 0 && <ReadBy names={p.readers} />}
        </>
      }
    >
      {p.senderName && <p className="truncate pb-0.5 text-xs font-semibold text-accent-700 dark:text-accent-300">{p.senderName}</p>}
      {m.replyToSeq !== null && !deleted && (
        <ReplyQuote conversationId={m.conversationId} seq={m.replyToSeq} loaded={p.quoted} senderName={nameOf} onBubble={p.mine} />
      )}
      {!deleted && <Attachments list={m.attachments} mine={p.mine} />}
      <Body text={m.body} deleted={deleted} mine={p.mine} meta={<Meta at={m.sentAt} tick={p.tick} edited={m.editedAt !== null && !deleted} />} />
    </Row>
  );
});

/** "Read by 2", with the names on hover and on keyboard focus. */
function ReadBy({ names }: { names: string[] }) {
  const list = names.join(', ');
  return (
    <div className="flex justify-end pt-0.5">
      <span
        tabIndex={0}
        role="note"
        aria-label={`Read by ${names.length}: ${list}`}
        data-testid="read-by"
        className="group/readby relative cursor-default rounded px-1 text-[11px] text-slate-500 outline-offset-1 dark:text-slate-400"
      >
        Read by {names.length}
        <span
          role="tooltip"
          className="pointer-events-none absolute right-0 bottom-full z-10 mb-1 hidden w-max max-w-60 rounded-lg bg-slate-900 px-2.5 py-1.5 text-xs text-white shadow-lg group-hover/readby:block group-focus/readby:block dark:bg-slate-100 dark:text-slate-900"
        >
          {list}
        </span>
      </span>
    </div>
  );
}

export const PendingRow = memo(function PendingRow(
  p: Layout & Quote & { pending: PendingMessage; tick: Tick },
) {
  const dispatch = useAppDispatch();
  const nameOf = useSenderName(p.names, p.myId);
  const failed = p.tick === 'failed';
  const retry = () => dispatch(retryRequested(p.pending.clientId));
  return (
    <Row
      layout={p}
      at={p.pending.createdAt}
      bubbleTone={bubbleTone(true, failed, false)}
      attrs={{ 'data-status': p.tick }}
      actions={
        failed ? (
          <button
            type="button"
            onClick={retry}
            aria-label="Retry sending"
            title="Retry sending"
            className="mb-0.5 inline-flex h-6 w-6 shrink-0 items-center justify-center self-end rounded-full bg-rose-500 text-sm font-bold text-white hover:bg-rose-600"
          >
            !
          </button>
        ) : null
      }
      below={
        failed && (
          <div role="alert" className="flex justify-end gap-3 pt-1 text-xs text-rose-600 dark:text-rose-400">
            <span data-testid="send-error">{p.pending.error ?? 'Not sent.'}</span>
            <button type="button" onClick={retry} className="font-semibold underline-offset-2 hover:underline">
              Retry
            </button>
            <button type="button" onClick={() => dispatch(pendingDiscarded(p.pending.clientId))} className="font-semibold underline-offset-2 hover:underline">
              Discard
            </button>
          </div>
        )
      }
    >
      {p.pending.replyToSeq !== null && (
        <ReplyQuote conversationId={p.pending.conversationId} seq={p.pending.replyToSeq} loaded={p.quoted} senderName={nameOf} onBubble />
      )}
      <Attachments list={p.pending.attachments} mine />
      <Body text={p.pending.body} deleted={false} mine meta={<Meta at={p.pending.createdAt} tick={p.tick} edited={false} />} />
    </Row>
  );
});
