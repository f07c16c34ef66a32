// Test doubles: a scriptable WebSocket, a manual clock, and a fetch that answers like the server.
import { vi } from 'vitest';
import type { SessionTabs, TabNews } from '../app/sessionTabs';
import { makeStore } from '../app/store';
import type { Conversation, GroupConversation, Message, User } from '../api/types';
import type { SocketDeps } from '../sockets/deps';
import type { Clock, SocketLike } from '../sockets/reconnectingSocket';

export class FakeWebSocket implements SocketLike {
  static instances: FakeWebSocket[] = [];
  readyState = 0;
  onopen: SocketLike['onopen'] = null;
  onclose: SocketLike['onclose'] = null;
  onerror: SocketLike['onerror'] = null;
  onmessage: SocketLike['onmessage'] = null;
  sent: unknown[] = [];
  closedByClient: { code?: number; reason?: string } | null = null;

  constructor(readonly url: string) {
    FakeWebSocket.instances.push(this);
  }

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('send on a socket that is not open');
    this.sent.push(JSON.parse(data));
  }

  close(code?: number, reason?: string): void {
    this.closedByClient = { code, reason };
    this.readyState = 3;
  }

  // ----- what the server does -----
  open(): void {
    this.readyState = 1;
    this.onopen?.(new Event('open'));
  }

  receive(frame: unknown): void {
    this.onmessage?.({ data: JSON.stringify(frame) } as MessageEvent);
  }

  /** The server or the network drops the connection (or the upgrade fails). */
  drop(code = 1006, reason = ''): void {
    this.readyState = 3;
    this.onclose?.({ code, reason } as CloseEvent);
  }

  sentOfType(type: string): Record<string, unknown>[] {
    return this.sent.filter((f) => (f as { type: string }).type === type) as Record<string, unknown>[];
  }

  static last(path: string): FakeWebSocket {
    const s = [...FakeWebSocket.instances].reverse().find((w) => w.url.endsWith(path));
    if (!s) throw new Error(`no socket for ${path}`);
    return s;
  }

  static count(path: string): number {
    return FakeWebSocket.instances.filter((w) => w.url.endsWith(path)).length;
  }
}

export class FakeClock implements Clock {
  time = Date.parse('2025-01-01T12:00:00Z');
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 1;

  now(): number {
    return this.time;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.push({ at: this.time + ms, fn, id });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }
  /** Delays of the timers pending now, relative to now. */
  pending(): number[] {
    return this.timers.map((t) => t.at - this.time).sort((a, b) => a - b);
  }
  advance(ms: number): void {
    const until = this.time + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.time = due.at;
      due.fn();
    }
    this.time = until;
  }
}

export function testDeps(clock: FakeClock, random = () => 0.5): SocketDeps {
  let n = 0;
  return {
    create: (url) => new FakeWebSocket(url),
    clock,
    random,
    uuid: () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
    wsUrl: (path) => `ws://localhost${path}`,
  };
}

export const alice: User = { id: 'u-alice', username: 'alice', email: 'alice@example.com', role: 'admin' };
export const bob: User = { id: 'u-bob', username: 'bob', email: 'bob@example.com', role: 'member' };
export const carol: User = { id: 'u-carol', username: 'carol', email: 'carol@example.com', role: 'member' };

export function msg(conversationId: string, seq: number, senderId = bob.id, extra: Partial<Message> = {}): Message {
  return {
    id: `m-${conversationId}-${seq}`,
    conversationId,
    seq,
    senderId,
    body: `message ${seq}`,
    sentAt: new Date(Date.parse('2025-01-01T10:00:00Z') + seq * 1000).toISOString(),
    clientId: `c-${conversationId}-${seq}`,
    replyToSeq: null,
    editedAt: null,
    deletedAt: null,
    reactions: [],
    attachments: [],
    ...extra,
  };
}

type Direct = Extract<Conversation, { kind: 'direct' }>;

/** A direct conversation between alice (us) and bob. */
export function conversation(id: string, lastSeq: number, extra: Partial<Direct> = {}): Conversation {
  return {
    id,
    kind: 'direct',
    peer: { id: bob.id, username: bob.username, online: true, lastSeenAt: null },
    lastMessage: lastSeq > 0 ? msg(id, lastSeq) : null,
    lastSeq,
    unread: 0,
    myReadSeq: lastSeq,
    peerDeliveredSeq: lastSeq,
    peerReadSeq: lastSeq,
    lastChange: 0,
    ...extra,
  };
}

/** A group of alice (its owner, us), bob and carol, where everyone has read everything. */
export function group(id: string, lastSeq: number, extra: Partial<GroupConversation> = {}): Conversation {
  const members = [alice, bob, carol];
  return {
    id,
    kind: 'group',
    title: 'Family',
    members: members.map((u, i) => ({ id: u.id, username: u.username, role: i === 0 ? 'owner' : 'member' })),
    lastMessage: lastSeq > 0 ? msg(id, lastSeq) : null,
    lastSeq,
    unread: 0,
    myReadSeq: lastSeq,
    receipts: members.map((u) => ({ userId: u.id, deliveredSeq: lastSeq, readSeq: lastSeq })),
    lastChange: 0,
    ...extra,
  };
}

type Handler = (url: URL, req: Request) => unknown | Promise<unknown>;

/**
 * A fake server for fetch: `routes` maps "METHOD /path" to a handler returning a JSON body
 * (or a Response). Every request is recorded in `calls`.
 */
export function fakeServer(routes: Record<string, Handler>) {
  const calls: { method: string; path: string; search: URLSearchParams; body: unknown }[] = [];
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = input instanceof Request ? input : new Request(input, init);
    const url = new URL(req.url);
    const text = req.method === 'GET' ? '' : await req.text();
    calls.push({ method: req.method, path: url.pathname, search: url.searchParams, body: text ? JSON.parse(text) : undefined });
    const key = `${req.method} ${url.pathname}`;
    const handler = routes[key];
    if (!handler) {
      return new Response(JSON.stringify({ error: { code: 'not_found', message: key } }), {
        status: 404,
        headers: { 'content-type': 'application/json' },
      });
    }
    const out = await handler(url, req);
    if (out instanceof Response) return out;
    if (out === undefined) return new Response(null, { status: 204 });
    return new Response(JSON.stringify(out), { status: 200, headers: { 'content-type': 'application/json' } });
  });
  globalThis.fetch = fetchMock as typeof fetch;
  return { calls, fetchMock };
}

export async function waitFor(cond: () => boolean, what = 'condition', timeoutMs = 2000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Tabs of one browser: what one tells, the others hear (never itself), as with a BroadcastChannel. */
export class FakeTabs {
  private hearers: { tab: number; hear: (news: TabNews) => void }[] = [];
  private tabs = 0;

  tab(): SessionTabs {
    const me = ++this.tabs;
    return {
      tell: (news) => {
        // Delivered later, as a channel's messages are; a structured clone, as they are.
        for (const h of this.hearers) if (h.tab !== me) setTimeout(() => h.hear(structuredClone(news)), 0);
      },
      listen: (hear) => void this.hearers.push({ tab: me, hear }),
    };
  }
}

export function setup(clock = new FakeClock(), random?: () => number, tabs: SessionTabs | null = null) {
  FakeWebSocket.instances = [];
  const store = makeStore(testDeps(clock, random), null, tabs);
  return { store, clock };
}
