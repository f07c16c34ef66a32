// Writing a message, a reply (the answered message shown above the box) or an edit (the box
// holds the message's text; Enter saves, Escape cancels). Up arrow in an empty box edits my
// last message, as in the chat apps people know. Files come in by the attach button, a paste
// or a drop on the chat; they upload at once and go with the next message.
import { useEffect, useId, useRef, useState, type ClipboardEvent, type FormEvent, type KeyboardEvent } from 'react';
import type { ConversationId, Message } from '../../api/types';
import { MAX_BODY_CHARS } from '../../api/generated/limits';
import { useAppDispatch, useAppSelector } from '../../app/hooks';
import { drafts } from '../../features/chat/drafts';
import { bodyFault, faultText, showsNothing } from '../../features/chat/messageBody';
import { lowerBound } from '../../features/chat/timeline';
import { previewText } from '../../features/chat/attachments';
import { takeUploads } from '../../features/chat/uploadsSlice';
import { composerModeCleared, composerModeSet, type ComposerMode } from '../../features/chat/viewSlice';
import { selectKnownNames, senderNames } from '../../features/users/namesSlice';
import { editRequested, sendRequested, typingRequested } from '../../sockets/actions';
import { fitsInFrame, messageFits, TOO_LONG_TEXT } from '../../sockets/chat/frameSize';
import { CheckIcon, CloseIcon, PaperclipIcon, PencilIcon, ReplyIcon, SendIcon } from '../icons';
import { UploadTray, useAttach, useUploads } from './UploadTray';
import { useMentionPicker } from './MentionPicker';
import { mentionableOthers } from './mentions';

/** The formatting messages understand (lib/markdown.ts), as the box's tooltip: there when looked for, out of the way otherwise. */
const FORMATTING_HINT = 'Formatting: *bold* _italic_ ~strike~ `code` ```code block``` > quote · Shift+Enter for a new line';

function useTarget(conversationId: ConversationId, mode: ComposerMode | undefined): Message | undefined {
  return useAppSelector((s) => {
    const items = s.chat.messages[conversationId]?.items;
    if (!mode || !items) return undefined;
    const m = items[lowerBound(items, mode.seq)];
    return m?.seq === mode.seq ? m : undefined;
  });
}

function ModeBar({ mode, target, who, onCancel }: { mode: ComposerMode; target: Message | undefined; who: string; onCancel: () => void }) {
  const editing = mode.kind === 'edit';
  return (
    <div className="flex items-center gap-3 px-3 pt-2" data-testid="composer-mode">
      <span className="text-lg text-accent-600 dark:text-accent-400">{editing ? <PencilIcon /> : <ReplyIcon />}</span>
      <div className="min-w-0 flex-1 border-l-2 border-accent-500 pl-2">
        <p className="text-xs font-semibold text-accent-700 dark:text-accent-300">{editing ? 'Edit message' : `Reply to ${who}`}</p>
        <p className="truncate text-sm text-slate-600 dark:text-slate-300">{target ? previewText(target) : '…'}</p>
      </div>
      <button
        type="button"
        onClick={onCancel}
        aria-label={editing ? 'Cancel edit' : 'Cancel reply'}
        title="Cancel (Esc)"
        className="inline-flex h-8 w-8 shrink-0 items-center justify-center rounded-full text-slate-500 hover:bg-slate-100 dark:text-slate-400 dark:hover:bg-slate-700"
      >
        <CloseIcon />
      </button>
    </div>
  );
}

export function Composer({ conversationId, onSent }: { conversationId: ConversationId; onSent: () => void }) {
  const dispatch = useAppDispatch();
  const me = useAppSelector((s) => s.session.user?.id ?? '');
  const myName = useAppSelector((s) => s.session.user?.username ?? '');
  const mode = useAppSelector((s) => s.chatView.composer[conversationId]);
  const target = useTarget(conversationId, mode);
  const conversation = useAppSelector((s) => s.chat.conversations[conversationId]);
  const known = useAppSelector(selectKnownNames);
  const myLast = useAppSelector((s) => {
    const items = s.chat.messages[conversationId]?.items ?? [];
    for (let i = items.length - 1; i >= 0; i--) if (items[i]!.senderId === me && !items[i]!.deletedAt) return items[i]!.seq;
    return null;
  });
  const [text, setText] = useState(() => drafts.get(me, conversationId));
  const savedDraft = useRef<string | null>(null);
  const id = useId();
  const input = useRef<HTMLTextAreaElement>(null);
  const editing = mode?.kind === 'edit';
  const length = [...text].length;
  const uploads = useUploads(conversationId);
  const overChars = length > MAX_BODY_CHARS;
  // Within the characters, the frame may still be over the server's limit (emoji are 4 bytes, and files' ids come too).
  const tooBig =
    !overChars &&
    !(editing
      ? fitsInFrame({ type: 'edit', conversationId, seq: mode.seq, body: text })
      : messageFits({
          conversationId,
          body: text,
          replyToSeq: mode?.kind === 'reply' ? mode.seq : null,
          attachments: uploads.flatMap((u) => (u.status === 'done' && u.attachment ? [u.attachment] : [])),
        }));
  const tooLong = overChars || tooBig;
  const unchanged = editing && text === target?.body;
  const attach = useAttach(conversationId);
  const picker = useRef<HTMLInputElement>(null);
  const mention = useMentionPicker(input, text, setText, mentionableOthers(conversation, myName));
  const uploading = uploads.some((u) => u.status === 'uploading');
  const uploaded = uploads.some((u) => u.status === 'done');
  // Files still uploading count as coming: the box says nothing of its blank text meanwhile (Send waits for them anyway).
  const fault = bodyFault(text, !editing && (uploaded || uploading));
  const canSend = !fault && !tooLong && (editing ? !unchanged : !uploading);
  const faultNote = faultText(text, fault);
  const note = faultNote ?? (tooBig ? TOO_LONG_TEXT : length > MAX_BODY_CHARS - 300 ? `${length}/${MAX_BODY_CHARS}` : null);
  const invalid = tooLong || faultNote !== null;

  useEffect(() => {
    // Keyboard users land in the composer when a chat opens (not on touch screens: no keyboard pop-up).
    if (window.matchMedia('(pointer: fine)').matches) input.current?.focus();
  }, [conversationId]);

  // Entering an edit puts the message's text in the box (the draft waits); leaving it brings the draft back.
  const editingSeq = editing ? mode.seq : null;
  const targetBody = target?.body;
  useEffect(() => {
    if (editingSeq === null) {
      if (savedDraft.current !== null) {
        setText(savedDraft.current);
        savedDraft.current = null;
      }
      return;
    }
    if (savedDraft.current === null) savedDraft.current = drafts.get(me, conversationId);
    setText(targetBody ?? '');
    // Only when another message is picked: later changes of its text do not overwrite the edit.
  }, [editingSeq]);
  useEffect(() => {
    if (mode) input.current?.focus();
  }, [mode]);

  useEffect(() => {
    if (!editing) drafts.set(me, conversationId, text);
  }, [me, conversationId, text, editing]);

  const cancel = () => dispatch(composerModeCleared(conversationId));

  function submit(e?: FormEvent) {
    e?.preventDefault();
    if (!canSend) return;
    if (editing) {
      dispatch(editRequested({ conversationId, seq: mode.seq, body: text }));
      cancel();
    } else {
      const attachments = dispatch(takeUploads(conversationId));
      dispatch(sendRequested({ conversationId, body: text, replyToSeq: mode?.kind === 'reply' ? mode.seq : null, attachments }));
      if (mode) cancel();
      setText('');
      onSent();
    }
    input.current?.focus();
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.nativeEvent.isComposing || mention.onKeyDown(e)) return;
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      submit();
    } else if (e.key === 'Escape' && mode) {
      e.preventDefault();
      cancel();
    } else if (e.key === 'ArrowUp' && !text && !mode && myLast !== null) {
      e.preventDefault();
      dispatch(composerModeSet({ conversationId, mode: { kind: 'edit', seq: myLast } }));
    }
  }

  function onPaste(e: ClipboardEvent<HTMLTextAreaElement>) {
    // A copied picture (a screenshot) arrives as a file; text pastes as usual, even when the
    // clipboard also holds a picture of it (copied from an office document).
    const files = [...e.clipboardData.files];
    if (files.length === 0 || editing || e.clipboardData.types.includes('text/plain')) return;
    e.preventDefault();
    attach(files);
  }

  const names = senderNames(known, conversation);
  const who = target ? (target.senderId === me ? 'yourself' : (names[target.senderId] ?? 'someone')) : '…';

  return (
    <form onSubmit={submit} className="flex items-end gap-2 px-3 pt-2 pb-[max(0.75rem,env(safe-area-inset-bottom))] md:px-[5%] lg:px-[8%]">
      {!editing && (
        <>
          <button
            type="button"
            onClick={() => picker.current?.click()}
            aria-label="Attach file"
            title="Attach file"
            className="inline-flex h-11 w-11 shrink-0 items-center justify-center rounded-full text-xl text-slate-500 hover:bg-white/80 hover:text-accent-600 dark:text-slate-400 dark:hover:bg-slate-800 dark:hover:text-accent-400"
          >
            <PaperclipIcon />
          </button>
          <input
            ref={picker}
            type="file"
            multiple
            hidden
            data-testid="attach-input"
            onChange={(e) => {
              attach([...(e.target.files ?? [])]);
              e.target.value = '';
            }}
          />
        </>
      )}
      <div className="relative flex min-w-0 flex-1 flex-col rounded-3xl bg-white shadow-sm ring-1 ring-slate-200 focus-within:ring-2 focus-within:ring-accent-500 dark:bg-slate-800 dark:ring-slate-700">
        {mode && <ModeBar mode={mode} target={target} who={who} onCancel={cancel} />}
        {!editing && <UploadTray uploads={uploads} />}
        {mention.list}
        <label htmlFor={id} className="sr-only">
          Message
        </label>
        <textarea
          id={id}
          ref={input}
          rows={1}
          dir="auto"
          value={text}
          placeholder={editing ? 'Edit message' : 'Message'}
          title={FORMATTING_HINT}
          {...mention.inputProps}
          onChange={(e) => {
            setText(e.target.value);
            mention.follow();
            if (!showsNothing(e.target.value) && !editing) dispatch(typingRequested(conversationId));
          }}
          onKeyDown={onKeyDown}
          onSelect={mention.follow}
          onPaste={onPaste}
          aria-invalid={invalid}
          aria-describedby={invalid ? `${id}-note` : undefined}
          className="field-sizing-content max-h-40 min-h-11 resize-none overflow-y-auto bg-transparent px-4 py-2.5 text-[15px] leading-6 placeholder:text-slate-400 focus:outline-none dark:placeholder:text-slate-500"
        />
        {note && (
          <span id={`${id}-note`} className={`px-4 pb-1.5 text-right text-xs ${invalid ? 'text-rose-600' : 'text-slate-500'}`}>
            {note}
          </span>
        )}
      </div>
      <button
        type="submit"
        aria-label={editing ? 'Save' : 'Send'}
        title={editing ? 'Save (Enter)' : 'Send (Enter)'}
        disabled={!canSend}
        className="inline-flex h-11 w-11 shrink-0 items-center justify-center rounded-full bg-accent-600 text-xl text-white shadow-sm transition hover:bg-accent-700 disabled:cursor-not-allowed disabled:bg-slate-300 disabled:text-white/90 disabled:shadow-none dark:disabled:bg-slate-800 dark:disabled:text-slate-500"
      >
        {editing ? <CheckIcon className="h-5 w-5" /> : <SendIcon className="translate-x-[-1px] translate-y-[1px]" />}
      </button>
    </form>
  );
}
