// One WebSocket that stays connected while wanted: reconnects with backoff and jitter, pauses
// while the browser is offline, and reports every state change. Knows nothing about Redux.
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff';

/** The part of the browser's WebSocket this code uses (a fake one stands in for it in tests). */
export interface SocketLike {
  readonly readyState: number;
  onopen: ((ev: Event) => void) | null;
  onclose: ((ev: CloseEvent) => void) | null;
  onerror: ((ev: Event) => void) | null;
  onmessage: ((ev: MessageEvent) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type SocketFactory = (url: string) => SocketLike;

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>),
};

const OPEN = 1;

export type SocketEvent =
  | { type: 'connecting'; attempt: number }
  | { type: 'open' }
  | { type: 'waiting'; attempt: number; retryAt: number }
  | { type: 'offline' }
  | { type: 'stopped' };

export interface ReconnectingSocketOptions {
  url: () => string;
  create: SocketFactory;
  clock: Clock;
  random: () => number;
  backoff?: BackoffOptions;
  onEvent: (e: SocketEvent) => void;
  onOpen: () => void;
  onMessage: (data: string) => void;
  /** The socket closed (after having opened), with the close frame's code and reason. */
  onClose?: (code: number, reason: string) => void;
}

export class ReconnectingSocket {
  private socket: SocketLike | null = null;
  private wanted = false;
  private offline = false;
  private attempt = 0;
  private timer: unknown = null;

  constructor(private readonly opts: ReconnectingSocketOptions) {}

  get isOpen(): boolean {
    return this.socket !== null && this.socket.readyState === OPEN;
  }

  get isWanted(): boolean {
    return this.wanted;
  }

  start(): void {
    if (this.wanted) return;
    this.wanted = true;
    this.attempt = 0;
    if (this.offline) this.opts.onEvent({ type: 'offline' });
    else this.connect();
  }

  stop(): void {
    this.wanted = false;
    this.clearTimer();
    this.drop(1000, 'signed out');
    this.opts.onEvent({ type: 'stopped' });
  }

  /** Sends one JSON frame if the socket is open; false if it is not. */
  send(frame: unknown): boolean {
    if (!this.socket || this.socket.readyState !== OPEN) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  /** Closes the current socket and reconnects (after the usual backoff). For dead connections. */
  restart(reason: string): void {
    if (!this.wanted || !this.socket) return;
    const s = this.socket;
    this.detach(s);
    s.close(4000, reason);
    this.socket = null;
    this.opts.onClose?.(4000, reason);
    this.scheduleRetry();
  }

  /** Skips the wait: connect now (the user clicked "retry", or the browser came back online). */
  reconnectNow(): void {
    if (!this.wanted || this.offline) return;
    if (this.socket) return;
    this.clearTimer();
    this.connect();
  }

  /** The browser went offline or came back. Offline: close and wait; online: connect at once. */
  setOffline(offline: boolean): void {
    if (this.offline === offline) return;
    this.offline = offline;
    if (!this.wanted) return;
    if (offline) {
      this.clearTimer();
      if (this.socket) {
        const s = this.socket;
        this.detach(s);
        s.close(4001, 'offline');
        this.socket = null;
        this.opts.onClose?.(4001, 'offline');
      }
      this.opts.onEvent({ type: 'offline' });
    } else {
      this.attempt = 0;
      this.reconnectNow();
    }
  }

  private connect(): void {
    this.opts.onEvent({ type: 'connecting', attempt: this.attempt });
    let socket: SocketLike;
    try {
      socket = this.opts.create(this.opts.url());
    } catch {
      this.scheduleRetry();
      return;
    }
    this.socket = socket;
    let opened = false;
    socket.onopen = () => {
      opened = true;
      this.attempt = 0;
      this.opts.onEvent({ type: 'open' });
      this.opts.onOpen();
    };
    socket.onmessage = (ev) => {
      if (typeof ev.data === 'string') this.opts.onMessage(ev.data);
    };
    socket.onerror = () => {
      // A close event always follows; reconnecting happens there.
    };
    socket.onclose = (ev) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (opened) this.opts.onClose?.(ev.code, ev.reason);
      if (this.wanted && !this.offline) this.scheduleRetry();
    };
  }

  private scheduleRetry(): void {
    this.clearTimer();
    const delay = backoffDelay(this.attempt, this.opts.random, this.opts.backoff ?? DEFAULT_BACKOFF);
    const attempt = ++this.attempt;
    this.opts.onEvent({ type: 'waiting', attempt, retryAt: this.opts.clock.now() + delay });
    this.timer = this.opts.clock.setTimeout(() => {
      this.timer = null;
      if (this.wanted && !this.offline) this.connect();
    }, delay);
  }

  private clearTimer(): void {
    if (this.timer !== null) {
      this.opts.clock.clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private detach(s: SocketLike): void {
    s.onopen = null;
    s.onclose = null;
    s.onerror = null;
    s.onmessage = null;
  }

  private drop(code: number, reason: string): void {
    if (!this.socket) return;
    const s = this.socket;
    this.detach(s);
    this.socket = null;
    try {
      s.close(code, reason);
    } catch {
      // already closing
    }
  }
}
