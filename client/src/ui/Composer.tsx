import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import type { ConversationId } from '../api/types';
import { useAppDispatch, useAppSelector } from '../app/hooks';
import { sendRequested, typingRequested } from '../sockets/actions';
import { SendIcon } from './icons';

const MAX_CHARS = 4000;
/** Unsent text per (user, conversation), kept while switching chats (not across reloads). */
const drafts = new Map<string, string>();

export function Composer({ conversationId, onSent }: { conversationId: ConversationId; onSent: () => void }) {
  const dispatch = useAppDispatch();
  const me = useAppSelector((s) => s.session.user?.id ?? '');
  const draftKey = `${me}:${conversationId}`;
  const [text, setText] = useState(() => drafts.get(draftKey) ?? '');
  const id = useId();
  const input = useRef<HTMLTextAreaElement>(null);
  const length = [...text].length;
  const tooLong = length > MAX_CHARS;
  const canSend = text.trim().length > 0 && !tooLong;

  useEffect(() => {
    // Keyboard users land in the composer when a chat opens (not on touch screens: no keyboard pop-up).
    if (window.matchMedia('(pointer: fine)').matches) input.current?.focus();
  }, [conversationId]);

  useEffect(() => {
    if (text) drafts.set(draftKey, text);
    else drafts.delete(draftKey);
  }, [draftKey, text]);

  function send(e?: FormEvent) {
    e?.preventDefault();
    if (!canSend) return;
    dispatch(sendRequested({ conversationId, body: text }));
    setText('');
    onSent();
    input.current?.focus();
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      send();
    }
  }

  return (
    <form onSubmit={send} className="flex items-end gap-2 px-3 pt-2 pb-[max(0.75rem,env(safe-area-inset-bottom))] md:px-[5%] lg:px-[8%]">
      <div className="flex min-w-0 flex-1 flex-col rounded-3xl bg-white shadow-sm ring-1 ring-slate-200 focus-within:ring-2 focus-within:ring-accent-500 dark:bg-slate-800 dark:ring-slate-700">
        <label htmlFor={id} className="sr-only">
          Message
        </label>
        <textarea
          id={id}
          ref={input}
          rows={1}
          value={text}
          placeholder="Message"
          onChange={(e) => {
            setText(e.target.value);
            if (e.target.value.trim()) dispatch(typingRequested(conversationId));
          }}
          onKeyDown={onKeyDown}
          aria-invalid={tooLong}
          aria-describedby={tooLong ? `${id}-count` : undefined}
          className="field-sizing-content max-h-40 min-h-11 resize-none overflow-y-auto bg-transparent px-4 py-2.5 text-[15px] leading-6 placeholder:text-slate-400 focus:outline-none dark:placeholder:text-slate-500"
        />
        {length > MAX_CHARS - 300 && (
          <span id={`${id}-count`} className={`px-4 pb-1.5 text-right text-xs ${tooLong ? 'text-rose-600' : 'text-slate-500'}`}>
            {length}/{MAX_CHARS}
          </span>
        )}
      </div>
      <button
        type="submit"
        aria-label="Send"
        title="Send (Enter)"
        disabled={!canSend}
        className="inline-flex h-11 w-11 shrink-0 items-center justify-center rounded-full bg-accent-600 text-xl text-white shadow-sm transition hover:bg-accent-700 disabled:bg-slate-300 disabled:text-white/90 dark:disabled:bg-slate-700"
      >
        <SendIcon className="translate-x-[-1px] translate-y-[1px]" />
      </button>
    </form>
  );
}
