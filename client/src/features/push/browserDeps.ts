// The browser's side of notifications: Notification API, service worker and push manager, and
// the server's push routes through the app's API.
import type { ThunkDispatch, UnknownAction } from '@reduxjs/toolkit';
import { pushApi } from '../../api/push';
import type { BrowserNotificationsDeps, BrowserSubscription } from './browserNotifications';

type Dispatch = ThunkDispatch<unknown, unknown, UnknownAction>;

/** Where the app shows a notification: through the service worker (so a click is handled as a
 *  push's is) or, without one, the page's own Notification. */
export interface ShowDeps {
  isHidden(): boolean;
  show(title: string, options: NotificationOptions): Promise<void>;
  /** Closes the notification shown with `tag` if it is the one of message `seq` (its `data.seq`). */
  withdraw(tag: string, seq: number): Promise<void>;
  /** The messages of the notifications shown now (the service worker's pushes among them). */
  shown(): Promise<{ conversationId: string; seq: number }[]>;
}

export function browserNotificationsDeps(dispatch: Dispatch): BrowserNotificationsDeps & ShowDeps {
  const hasNotification = typeof Notification !== 'undefined';
  // The service worker's registration, or null: never `serviceWorker.ready` alone, which waits
  // forever where no worker was registered (sign-out must not hang on it).
  const registration = async (): Promise<ServiceWorkerRegistration | null> => {
    if (typeof navigator === 'undefined' || !('serviceWorker' in navigator)) return null;
    const reg = await navigator.serviceWorker.getRegistration();
    if (!reg || reg.active) return reg ?? null;
    const timeout = new Promise<null>((resolve) => setTimeout(() => resolve(null), 10_000));
    return Promise.race([navigator.serviceWorker.ready, timeout]);
  };
  // What the page showed itself (no service worker), by tag: the browser lists only a worker's.
  const shownHere = new Map<string, Notification>();
  return {
    notification: hasNotification ? Notification : undefined,
    async pushManager() {
      if (typeof PushManager === 'undefined') return null;
      const reg = await registration();
      if (!reg) return null;
      return {
        getSubscription: () => reg.pushManager.getSubscription() as Promise<BrowserSubscription | null>,
        subscribe: (options) =>
          reg.pushManager.subscribe({
            userVisibleOnly: options.userVisibleOnly,
            applicationServerKey: options.applicationServerKey as BufferSource,
          }) as Promise<BrowserSubscription>,
      };
    },
    server: {
      key: async () =>
        (await dispatch(pushApi.endpoints.pushKey.initiate(undefined, { subscribe: false, forceRefetch: true })).unwrap())
          .publicKey,
      subscribe: async (body) => {
        await dispatch(pushApi.endpoints.pushSubscribe.initiate(body)).unwrap();
      },
      unsubscribe: async (endpoint) => {
        await dispatch(pushApi.endpoints.pushUnsubscribe.initiate({ endpoint })).unwrap();
      },
    },
    storage: localStorage,
    isHidden: () => document.visibilityState === 'hidden',
    async show(title, options) {
      const reg = await registration();
      if (reg) return reg.showNotification(title, options);
      const shown = new Notification(title, options);
      if (options.tag) shownHere.set(options.tag, shown);
    },
    async withdraw(tag, seq) {
      const reg = await registration();
      const here = shownHere.get(tag);
      const shown = reg ? await reg.getNotifications({ tag }) : here ? [here] : [];
      for (const n of shown) {
        if ((n.data as { seq?: unknown } | null)?.seq !== seq) continue;
        n.close();
        if (n === here) shownHere.delete(tag);
      }
    },
    async shown() {
      const reg = await registration();
      const list = reg ? await reg.getNotifications() : [...shownHere.values()];
      return list.flatMap((n) => {
        const data = n.data as { conversationId?: unknown; seq?: unknown } | null;
        return typeof data?.conversationId === 'string' && typeof data.seq === 'number' ? [{ conversationId: data.conversationId, seq: data.seq }] : [];
      });
    },
  };
}
