import { memo } from 'react';
import type { Tick } from '../features/chat/selectors';
import { clockTime, dayLabel } from '../lib/time';
import { MessageText } from './MessageText';
import { Ticks } from './Ticks';

export interface MessageRowProps {
  body: string;
  at: string;
  mine: boolean;
  /** For my messages only. */
  tick: Tick | null;
  seq: number | null;
  showDay: boolean;
  firstInGroup: boolean;
  lastInGroup: boolean;
  error: string | null;
  onRetry?: () => void;
}

function Meta(p: Pick<MessageRowProps, 'at' | 'tick'>) {
  return (
    <>
      <time dateTime={p.at}>{clockTime(p.at)}</time>
      {p.tick && <Ticks tick={p.tick} onBubble />}
    </>
  );
}

export const MessageRow = memo(function MessageRow(p: MessageRowProps) {
  const bubble = p.mine
    ? p.tick === 'failed'
      ? 'bg-accent-600/70 text-white'
      : 'bg-accent-600 text-white'
    : 'bg-white text-slate-900 dark:bg-slate-800 dark:text-slate-100';
  const tail = p.lastInGroup ? (p.mine ? 'rounded-br-md' : 'rounded-bl-md') : '';
  return (
    <div
      className="px-3 py-px md:px-[5%] lg:px-[8%]"
      data-testid="message"
      data-mine={p.mine ? 'true' : 'false'}
      data-status={p.tick ?? undefined}
      data-seq={p.seq ?? undefined}
    >
      {p.showDay && (
        <div className="flex justify-center py-3">
          <span className="rounded-full bg-slate-900/40 px-3 py-0.5 text-xs font-medium text-white backdrop-blur-sm dark:bg-slate-700/70">
            {dayLabel(p.at)}
          </span>
        </div>
      )}
      <div className={`flex items-end gap-2 ${p.mine ? 'justify-end' : 'justify-start'} ${p.firstInGroup && !p.showDay ? 'pt-2' : ''}`}>
        {p.tick === 'failed' && (
          <button
            type="button"
            onClick={p.onRetry}
            aria-label="Retry sending"
            title="Retry sending"
            className="mb-0.5 inline-flex h-6 w-6 shrink-0 items-center justify-center rounded-full bg-rose-500 text-sm font-bold text-white hover:bg-rose-600"
          >
            !
          </button>
        )}
        <div className={`relative max-w-[min(34rem,85%)] rounded-2xl px-3 pt-1.5 pb-1.5 shadow-sm ${bubble} ${tail}`}>
          <p className="text-[15px] leading-[1.35] break-words whitespace-pre-wrap">
            <MessageText text={p.body} onBubble={p.mine} />
            {/* Room for the time at the end of the last line: an invisible copy of it. */}
            <span aria-hidden="true" className="invisible ml-2 inline-flex items-center gap-1 text-[11px] leading-none select-none">
              <Meta {...p} />
            </span>
          </p>
          <span
            className={`absolute right-2.5 bottom-1.5 flex items-center gap-1 text-[11px] leading-none ${
              p.mine ? 'text-white/75' : 'text-slate-500 dark:text-slate-400'
            }`}
          >
            <Meta {...p} />
          </span>
        </div>
      </div>
      {p.tick === 'failed' && (
        <div className="flex justify-end gap-2 pt-1 text-xs text-rose-600 dark:text-rose-400">
          <span>{p.error ?? 'Not sent.'}</span>
          <button type="button" onClick={p.onRetry} className="font-semibold underline-offset-2 hover:underline">
            Retry
          </button>
        </div>
      )}
    </div>
  );
});
