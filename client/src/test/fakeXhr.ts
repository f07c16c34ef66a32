// A scriptable XMLHttpRequest for uploads: the test says how far the body got and how the
// server answered.
import type { XhrLike } from '../api/upload';

export class FakeXhr implements XhrLike {
  static instances: FakeXhr[] = [];
  opened: [string, string] | null = null;
  body: FormData | null = null;
  aborted = false;
  status = 0;
  responseText = '';
  withCredentials = false;
  upload: XhrLike['upload'] = { onprogress: null };
  onload: XhrLike['onload'] = null;
  onerror: XhrLike['onerror'] = null;
  onabort: XhrLike['onabort'] = null;

  constructor() {
    FakeXhr.instances.push(this);
  }

  open(method: string, url: string): void {
    this.opened = [method, url];
  }
  send(body: FormData): void {
    this.body = body;
  }
  abort(): void {
    this.aborted = true;
    this.onabort?.(event(0, 0));
  }

  // ----- what the network and the server do -----
  progress(loaded: number, total: number): void {
    this.upload.onprogress?.(event(loaded, total));
  }
  answer(status: number, body: unknown): void {
    this.status = status;
    this.responseText = JSON.stringify(body);
    this.onload?.(event(0, 0));
  }
  fail(): void {
    this.onerror?.(event(0, 0));
  }
}

function event(loaded: number, total: number): ProgressEvent {
  return { loaded, total, lengthComputable: total > 0 } as ProgressEvent;
}
