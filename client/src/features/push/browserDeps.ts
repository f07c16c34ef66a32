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
      if (reg) await reg.showNotification(title, options);
      else new Notification(title, options);
    },
  };
}
