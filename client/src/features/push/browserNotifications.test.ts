import { describe, expect, it } from 'vitest';
import type { PushSubscriptionRequest, UserId } from '../../api/types';
import {
  currentSetting,
  decodeBase64Url,
  resync,
  turnOff,
  turnOn,
  type BrowserNotificationsDeps,
  type BrowserSubscription,
} from './browserNotifications';

const ALICE = 'a1' as UserId;
const BOB = 'b2' as UserId;
// 65 bytes, base64url: what GET /api/push/key answers.
const SERVER_KEY = 'BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4';

/** A browser and a server, recording what happens between them. */
function fakes(permission: NotificationPermission = 'default', answer: NotificationPermission = 'granted') {
  const log: string[] = [];
  const stored = new Map<string, string>();
  let subscription: BrowserSubscription | null = null;
  const subscribed: PushSubscriptionRequest[] = [];
  const notification = {
    permission,
    async requestPermission() {
      log.push('ask');
      notification.permission = answer;
      return answer;
    },
  };
  const makeSubscription = (key: Uint8Array, n: number): BrowserSubscription => ({
    endpoint: `https://push.example.net/${n}`,
    options: { applicationServerKey: key.slice().buffer },
    toJSON: () => ({ endpoint: `https://push.example.net/${n}`, keys: { p256dh: `p${n}`, auth: `a${n}` } }),
    async unsubscribe() {
      log.push(`browser unsubscribes ${n}`);
      subscription = null;
      return true;
    },
  });
  let made = 0;
  const deps: BrowserNotificationsDeps = {
    notification,
    async pushManager() {
      return {
        getSubscription: async () => subscription,
        async subscribe(options) {
          made++;
          log.push(`browser subscribes ${made}`);
          subscription = makeSubscription(options.applicationServerKey, made);
          return subscription;
        },
      };
    },
    server: {
      key: async () => SERVER_KEY,
      async subscribe(body) {
        log.push(`POST ${body.endpoint}`);
        subscribed.push(body);
      },
      async unsubscribe(endpoint) {
        log.push(`DELETE ${endpoint}`);
      },
    },
    storage: {
      getItem: (k) => stored.get(k) ?? null,
      setItem: (k, v) => void stored.set(k, v),
      removeItem: (k) => void stored.delete(k),
    },
  };
  return {
    deps,
    log,
    subscribed,
    current: () => subscription,
    giveSubscription: (key: Uint8Array) => (subscription = makeSubscription(key, 99)),
  };
}

describe('notifications on this browser', () => {
  it('turning them on asks permission, subscribes with the server key and registers the subscription', async () => {
    const f = fakes();
    expect(currentSetting(f.deps, ALICE)).toBe('off');
    expect(await turnOn(f.deps, ALICE)).toBe('on');
    expect(f.log).toEqual(['ask', 'browser subscribes 1', 'POST https://push.example.net/1']);
    expect(new Uint8Array(f.current()!.options!.applicationServerKey!)).toEqual(decodeBase64Url(SERVER_KEY));
    expect(f.subscribed).toEqual([{ endpoint: 'https://push.example.net/1', keys: { p256dh: 'p1', auth: 'a1' } }]);
    expect(currentSetting(f.deps, ALICE)).toBe('on');
    expect(currentSetting(f.deps, BOB)).toBe('off');
  });

  it('a refusal leaves them off, and a browser block shows as denied', async () => {
    const f = fakes('default', 'denied');
    expect(await turnOn(f.deps, ALICE)).toBe('denied');
    expect(f.log).toEqual(['ask']);
    expect(currentSetting(f.deps, ALICE)).toBe('denied');
    expect(currentSetting({ ...f.deps, notification: undefined }, ALICE)).toBe('unsupported');
  });

  it('a subscription made with another key is replaced', async () => {
    const f = fakes('granted');
    f.giveSubscription(new Uint8Array(65).fill(4));
    await turnOn(f.deps, ALICE);
    expect(f.log).toEqual(['ask', 'browser unsubscribes 99', 'browser subscribes 1', 'POST https://push.example.net/1']);
  });

  it('turning them off tells the server, then the browser', async () => {
    const f = fakes();
    await turnOn(f.deps, ALICE);
    f.log.length = 0;
    await turnOff(f.deps);
    expect(f.log).toEqual(['DELETE https://push.example.net/1', 'browser unsubscribes 1']);
    expect(currentSetting(f.deps, ALICE)).toBe('off');
  });

  it('at sign-in the owner’s subscription is registered again, and someone else’s is dropped', async () => {
    const f = fakes();
    await turnOn(f.deps, ALICE);
    f.log.length = 0;
    await resync(f.deps, ALICE);
    expect(f.log).toEqual(['POST https://push.example.net/1']);
    f.log.length = 0;
    await resync(f.deps, BOB);
    expect(f.log).toEqual(['browser unsubscribes 1']);
    expect(currentSetting(f.deps, ALICE)).toBe('off');
  });

  it('decodes base64url keys with or without padding', () => {
    expect(Array.from(decodeBase64Url('-_8'))).toEqual([0xfb, 0xff]);
    expect(Array.from(decodeBase64Url('-_8='))).toEqual([0xfb, 0xff]);
    expect(decodeBase64Url(SERVER_KEY)).toHaveLength(65);
  });
});
