// The files waiting in a composer: a preview or an icon each, its upload progress, why it was
// refused, and a button to take it out.
import { useCallback, useState } from 'react';
import { shallowEqual } from 'react-redux';
import { useAttachmentLimitsQuery } from '../../api/http';
import type { ConversationId } from '../../api/types';
import { formatSize } from '../../api/upload';
import { useAppDispatch, useAppSelector } from '../../app/hooks';
import { attachFiles, removeUpload, uploadsOf, type PendingUpload } from '../../features/chat/uploadsSlice';
import { CloseIcon, FileIcon } from '../icons';

/** Checks and uploads files for this conversation's composer (the attach button, a drop, a paste). */
export function useAttach(conversationId: ConversationId): (files: File[]) => void {
  const dispatch = useAppDispatch();
  const { data: limits } = useAttachmentLimitsQuery();
  return useCallback(
    (files: File[]) => {
      if (files.length > 0) dispatch(attachFiles(conversationId, files, limits));
    },
    [dispatch, conversationId, limits],
  );
}

export function useUploads(conversationId: ConversationId): PendingUpload[] {
  return useAppSelector((s) => uploadsOf(s, conversationId), shallowEqual);
}

export function UploadTray({ uploads }: { uploads: PendingUpload[] }) {
  if (uploads.length === 0) return null;
  return (
    <ul aria-label="Files to send" className="flex gap-2 overflow-x-auto px-3 pt-2.5">
      {uploads.map((u) => (
        <UploadChip key={u.localId} upload={u} />
      ))}
    </ul>
  );
}

function UploadChip({ upload: u }: { upload: PendingUpload }) {
  const dispatch = useAppDispatch();
  const failed = u.status === 'failed';
  // A file named like a picture may not be one: its preview then fails, and it shows as a file.
  const [previewFailed, setPreviewFailed] = useState(false);
  return (
    <li
      data-testid="upload"
      data-status={u.status}
      className={`relative flex w-52 shrink-0 items-center gap-2 rounded-xl p-1.5 pr-8 ${
        failed ? 'bg-rose-50 ring-1 ring-rose-300 dark:bg-rose-950/40 dark:ring-rose-800' : 'bg-slate-100 dark:bg-slate-700/60'
      }`}
    >
      {u.previewUrl && !previewFailed ? (
        <img src={u.previewUrl} alt="" onError={() => setPreviewFailed(true)} className="h-10 w-10 shrink-0 rounded-lg object-cover" />
      ) : (
        <span className="inline-flex h-10 w-10 shrink-0 items-center justify-center rounded-lg bg-white text-2xl text-accent-600 dark:bg-slate-800 dark:text-accent-400">
          <FileIcon />
        </span>
      )}
      <span className="min-w-0 flex-1">
        <span className="block truncate text-xs font-medium">{u.name}</span>
        {failed ? (
          <span role="alert" className="block text-xs leading-tight text-rose-700 dark:text-rose-300">
            {u.error}
          </span>
        ) : u.status === 'uploading' ? (
          <span
            role="progressbar"
            aria-label={`Uploading ${u.name}`}
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={Math.round(u.progress * 100)}
            className="mt-1 block h-1.5 overflow-hidden rounded-full bg-slate-300 dark:bg-slate-600"
          >
            <span className="block h-full rounded-full bg-accent-600 transition-[width]" style={{ width: `${Math.round(u.progress * 100)}%` }} />
          </span>
        ) : (
          <span className="block text-xs text-slate-500 dark:text-slate-400">{formatSize(u.size)}</span>
        )}
      </span>
      <button
        type="button"
        onClick={() => dispatch(removeUpload(u.localId))}
        aria-label={`Remove ${u.name}`}
        title="Remove"
        className="absolute top-1 right-1 inline-flex h-6 w-6 items-center justify-center rounded-full text-slate-500 hover:bg-slate-200 dark:text-slate-300 dark:hover:bg-slate-600"
      >
        <CloseIcon />
      </button>
    </li>
  );
}
