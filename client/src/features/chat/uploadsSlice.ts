// Files picked, dropped or pasted into a composer: each is checked against the server's limits
// before anything is sent, then uploaded at once (with its progress) so that sending the
// message only names the uploads. Kept per conversation while switching chats.
import { createSlice, type PayloadAction, type ThunkAction, type UnknownAction } from '@reduxjs/toolkit';
import { api } from '../../api/http';
import type { Attachment, AttachmentLimits, ConversationId } from '../../api/types';
import { DEFAULT_ATTACHMENT_MAX_BYTES, MAX_ATTACHMENTS } from '../../api/generated/limits';
import { formatSize, uploadFile, type XhrLike } from '../../api/upload';

export type UploadStatus = 'uploading' | 'done' | 'failed';

export interface PendingUpload {
  localId: string;
  conversationId: ConversationId;
  name: string;
  size: number;
  /** A `blob:` URL of a picked image, for its preview in the composer. */
  previewUrl: string | null;
  /** Share of the file sent, 0 to 1. */
  progress: number;
  status: UploadStatus;
  error: string | null;
  attachment: Attachment | null;
}

export interface UploadsState {
  /** By local id, in the order files were added. */
  items: Record<string, PendingUpload>;
}

const initialState: UploadsState = { items: {} };

/** The types a browser can preview from the picked file itself. */
const PREVIEWABLE = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

const uploadsSlice = createSlice({
  name: 'uploads',
  initialState,
  reducers: {
    uploadAdded(state, { payload }: PayloadAction<PendingUpload>) {
      state.items[payload.localId] = payload;
    },
    uploadProgressed(state, { payload }: PayloadAction<{ localId: string; progress: number }>) {
      const u = state.items[payload.localId];
      if (u?.status === 'uploading') u.progress = payload.progress;
    },
    uploadSucceeded(state, { payload }: PayloadAction<{ localId: string; attachment: Attachment }>) {
      const u = state.items[payload.localId];
      if (!u) return;
      Object.assign(u, { status: 'done', progress: 1, attachment: payload.attachment, error: null });
      // The server read the bytes: a file only named like a picture is shown as a file.
      if (!PREVIEWABLE.has(payload.attachment.contentType)) u.previewUrl = null;
    },
    uploadFailed(state, { payload }: PayloadAction<{ localId: string; error: string }>) {
      const u = state.items[payload.localId];
      if (u) Object.assign(u, { status: 'failed', error: payload.error });
    },
    uploadRemoved(state, { payload }: PayloadAction<string>) {
      delete state.items[payload];
    },
  },
});

export const { uploadAdded, uploadProgressed, uploadSucceeded, uploadFailed, uploadRemoved } = uploadsSlice.actions;
export const uploadsReducer = uploadsSlice.reducer;

type State = { uploads: UploadsState };
type Thunk<R = void> = ThunkAction<R, State, unknown, UnknownAction>;

const NO_UPLOADS: PendingUpload[] = [];

/** The uploads of one conversation's composer, in the order they were added. */
export function uploadsOf(state: State, conversationId: ConversationId): PendingUpload[] {
  const list = Object.values(state.uploads.items).filter((u) => u.conversationId === conversationId);
  return list.length > 0 ? list : NO_UPLOADS;
}

/** Cancels an upload in progress, by local id (not state: an XHR is not serializable). */
const aborts = new Map<string, () => void>();
let nextId = 0;

/**
 * Checks and uploads `files` for the composer of `conversationId`. A file over the server's
 * limit (or the quota, or past the 10 a message carries, or empty) is shown as refused and is
 * not sent at all.
 */
export function attachFiles(
  conversationId: ConversationId,
  files: File[],
  limits: AttachmentLimits | undefined,
  makeXhr?: () => XhrLike,
): Thunk {
  return (dispatch, getState) => {
    const current = uploadsOf(getState(), conversationId).filter((u) => u.status !== 'failed');
    let slots = MAX_ATTACHMENTS - current.length;
    const maxBytes = limits?.maxBytes ?? DEFAULT_ATTACHMENT_MAX_BYTES;
    // Bytes my uploads will take once these are done (the server counts the ones it has).
    let used = (limits?.usedBytes ?? 0) + current.filter((u) => u.status === 'uploading').reduce((sum, u) => sum + u.size, 0);
    for (const file of files) {
      const localId = `upload-${++nextId}`;
      const name = file.name || 'file';
      const base = { localId, conversationId, name, size: file.size, previewUrl: null, progress: 0, attachment: null };
      const problem =
        slots <= 0
          ? `A message carries at most ${MAX_ATTACHMENTS} files.`
          : file.size === 0
            ? 'The file is empty.'
            : file.size > maxBytes
              ? `Larger than the limit of ${formatSize(maxBytes)}.`
              : limits && used + file.size > limits.quotaBytes
                ? `Your files would take more than your ${formatSize(limits.quotaBytes)}. Delete messages with files to make room.`
                : null;
      if (problem) {
        dispatch(uploadAdded({ ...base, status: 'failed', error: problem }));
        continue;
      }
      slots -= 1;
      used += file.size;
      const previewUrl = PREVIEWABLE.has(file.type) ? URL.createObjectURL(file) : null;
      dispatch(uploadAdded({ ...base, previewUrl, status: 'uploading', error: null }));
      let shown = 0;
      const upload = uploadFile(
        file,
        name,
        (sent) => {
          // A whole percent at a time: a large file reports progress hundreds of times.
          if (Math.floor(sent * 100) > Math.floor(shown * 100)) {
            shown = sent;
            dispatch(uploadProgressed({ localId, progress: sent }));
          }
        },
        makeXhr,
      );
      aborts.set(localId, upload.abort);
      upload.done.then(
        (attachment) => {
          aborts.delete(localId);
          const preview = getState().uploads.items[localId]?.previewUrl;
          if (preview && !PREVIEWABLE.has(attachment.contentType)) URL.revokeObjectURL(preview);
          dispatch(uploadSucceeded({ localId, attachment }));
          dispatch(api.util.invalidateTags(['AttachmentLimits']));
        },
        (error: Error) => {
          aborts.delete(localId);
          if (getState().uploads.items[localId]) dispatch(uploadFailed({ localId, error: error.message }));
        },
      );
    }
  };
}

/** Takes an upload out of the composer, cancelling it if it is still going. */
export function removeUpload(localId: string): Thunk {
  return (dispatch, getState) => {
    const u = getState().uploads.items[localId];
    dispatch(uploadRemoved(localId));
    aborts.get(localId)?.();
    aborts.delete(localId);
    if (u?.previewUrl) URL.revokeObjectURL(u.previewUrl);
  };
}

/**
 * The composer's finished uploads, taken out of it to go with the message being sent. The refused
 * ones go too: they said why they were not sent, and the message went without them.
 */
export function takeUploads(conversationId: ConversationId): Thunk<Attachment[]> {
  return (dispatch, getState) => {
    const uploads = uploadsOf(getState(), conversationId);
    const done = uploads.filter((u) => u.status === 'done' && u.attachment);
    for (const u of uploads) if (u.status !== 'uploading') dispatch(removeUpload(u.localId));
    return done.map((u) => u.attachment!);
  };
}
