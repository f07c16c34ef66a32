// Uploading one file to `POST /api/attachments` with its progress. XMLHttpRequest rather than
// fetch: only XHR reports how much of a request body has been sent, in every browser.
import { counted } from '../lib/sentence';
import type { Attachment, AttachmentResponse } from './types';

/** What an upload needs from the browser (a fake in unit tests). */
export interface XhrLike {
  open(method: string, url: string): void;
  send(body: FormData): void;
  abort(): void;
  status: number;
  responseText: string;
  withCredentials: boolean;
  upload: { onprogress: ((e: ProgressEvent) => void) | null };
  onload: ((e: ProgressEvent) => void) | null;
  onerror: ((e: ProgressEvent) => void) | null;
  onabort: ((e: ProgressEvent) => void) | null;
}

export class UploadError extends Error {
  constructor(
    message: string,
    /** The contract's error code, or `network` / `aborted`. */
    readonly code: string,
  ) {
    super(message);
  }
}

export interface Upload {
  done: Promise<Attachment>;
  abort: () => void;
}

/** Sends `file` as the multipart part `file`; `onProgress` gets the share sent, 0 to 1. */
export function uploadFile(
  file: Blob,
  name: string,
  onProgress: (sent: number) => void,
  makeXhr: () => XhrLike = () => new XMLHttpRequest(),
): Upload {
  const xhr = makeXhr();
  const done = new Promise<Attachment>((resolve, reject) => {
    xhr.open('POST', '/api/attachments');
    xhr.withCredentials = true;
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total > 0) onProgress(Math.min(1, e.loaded / e.total));
    };
    xhr.onload = () => {
      const body = parse(xhr.responseText);
      if (xhr.status === 201 && body && typeof body === 'object' && 'attachment' in body) {
        onProgress(1);
        resolve((body as AttachmentResponse).attachment);
      } else {
        reject(refusal(xhr.status, body));
      }
    };
    xhr.onerror = () => reject(new UploadError('The upload was interrupted. Check your connection.', 'network'));
    xhr.onabort = () => reject(new UploadError('Upload cancelled.', 'aborted'));
    const form = new FormData();
    form.append('file', file, name);
    xhr.send(form);
  });
  return { done, abort: () => xhr.abort() };
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function refusal(status: number, body: unknown): UploadError {
  const detail = body && typeof body === 'object' && 'error' in body ? (body as { error?: { code?: unknown; message?: unknown } }).error : undefined;
  const code = typeof detail?.code === 'string' ? detail.code : String(status);
  if (typeof detail?.message === 'string' && detail.message) return new UploadError(detail.message, code);
  if (status === 413) return new UploadError('The file is too large.', code);
  return new UploadError('The upload failed.', code);
}

/** `2.4 MB`, `512 KB`, `12 bytes`: binary units with the names file pickers show (the server's
 * 25 MiB limit reads "25 MB"). */
export function formatSize(bytes: number): string {
  const units: [number, string][] = [
    [1 << 30, 'GB'],
    [1 << 20, 'MB'],
    [1 << 10, 'KB'],
  ];
  for (const [unit, name] of units) {
    if (bytes >= unit) {
      const value = bytes / unit;
      return `${value >= 10 || Number.isInteger(value) ? Math.round(value) : value.toFixed(1)} ${name}`;
    }
  }
  return counted(bytes, 'byte');
}
