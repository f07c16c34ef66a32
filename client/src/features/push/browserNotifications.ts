// Notifications in this browser, turned on or off by the user: a Web Push subscription made with
// the server's key (so closed tabs are reached), and the Notification API while a tab is hidden
// (an open tab keeps the user online, so the server sends it no push).
//
// The choice belongs to this browser and to the user who made it: it is kept in localStorage
// with their id. Signing out turns it off; another user signing in on this browser does not
// inherit it.
import type { PushSubscriptionRequest, UserId } from '../../api/types';

export type NotificationsSetting = 'unsupported' | 'denied' | 'off' | 'on';

/** What a browser's push subscription offers (the parts used here). */
export interface BrowserSubscription {
  endpoint: string;
  options?: { applicationServerKey: ArrayBuffer | null };
  toJSON(): { endpoint?: string; keys?: Record<string, string> };
  unsubscribe(): Promise<boolean>;
}

export interface BrowserNotificationsDeps {
  /** The Notification API, when the browser has one. */
  notification?: { readonly permission: NotificationPermission; requestPermission(): Promise<NotificationPermission> };
  /** The service worker's push manager, when the browser can receive pushes. */
  pushManager(): Promise<{
    getSubscription(): Promise<BrowserSubscription | null>;
    subscribe(options: { userVisibleOnly: boolean; applicationServerKey: Uint8Array }): Promise<BrowserSubscription>;
  } | null>;
  server: {
    key(): Promise<string>;
    subscribe(body: PushSubscriptionRequest): Promise<void>;
    unsubscribe(endpoint: string): Promise<void>;
  };
  storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;
}

const STORAGE_KEY = 'gochat.notifications';

/** The setting as the settings control shows it. */
export function currentSetting(deps: BrowserNotificationsDeps, user: UserId): NotificationsSetting {
  if (!deps.notification) return 'unsupported';
  if (deps.notification.permission === 'denied') return 'denied';
  return deps.storage.getItem(STORAGE_KEY) === user && deps.notification.permission === 'granted' ? 'on' : 'off';
}

/** Asks the browser's permission, subscribes with the server's key and registers it. */
export async function turnOn(deps: BrowserNotificationsDeps, user: UserId): Promise<NotificationsSetting> {
  if (!deps.notification) return 'unsupported';
  const permission = await deps.notification.requestPermission();
  if (permission !== 'granted') return permission === 'denied' ? 'denied' : 'off';
  await subscribe(deps);
  deps.storage.setItem(STORAGE_KEY, user);
  return 'on';
}

/** Stops pushes to this browser (on the server first, while the session still allows it). */
export async function turnOff(deps: BrowserNotificationsDeps): Promise<void> {
  deps.storage.removeItem(STORAGE_KEY);
  const subscription = await (await deps.pushManager())?.getSubscription();
  if (!subscription) return;
  try {
    await deps.server.unsubscribe(subscription.endpoint);
  } finally {
    await subscription.unsubscribe();
  }
}

/**
 * At sign-in: keeps this browser's subscription registered for the user who turned
 * notifications on here (the server may have been restored, or its key changed), and drops one
 * left by someone else.
 */
export async function resync(deps: BrowserNotificationsDeps, user: UserId): Promise<void> {
  const owner = deps.storage.getItem(STORAGE_KEY);
  if (owner === user && deps.notification?.permission === 'granted') {
    await subscribe(deps);
  } else if (owner !== user) {
    if (owner !== null) deps.storage.removeItem(STORAGE_KEY);
    // Not the server's business any more: the push service forgets the endpoint, and the
    // server drops it at its next push (410).
    await (await (await deps.pushManager())?.getSubscription())?.unsubscribe();
  }
}

/** Whether a notification may be shown for this user in this browser now. */
export function mayNotify(deps: BrowserNotificationsDeps, user: UserId): boolean {
  return currentSetting(deps, user) === 'on';
}

async function subscribe(deps: BrowserNotificationsDeps): Promise<void> {
  const manager = await deps.pushManager();
  if (!manager) return; // Notification API only (no push here): hidden tabs still notify.
  const key = decodeBase64Url(await deps.server.key());
  let subscription = await manager.getSubscription();
  if (subscription && !sameBytes(subscription.options?.applicationServerKey ?? null, key)) {
    await subscription.unsubscribe(); // made with another key: the server could not push to it
    subscription = null;
  }
  subscription ??= await manager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
  const json = subscription.toJSON();
  await deps.server.subscribe({
    endpoint: json.endpoint ?? subscription.endpoint,
    keys: { p256dh: json.keys?.p256dh ?? '', auth: json.keys?.auth ?? '' },
  });
}

/** Base64url (padded or not) to bytes, as `applicationServerKey` takes the server's key. */
export function decodeBase64Url(text: string): Uint8Array {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
  const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

function sameBytes(a: ArrayBuffer | null, b: Uint8Array): boolean {
  if (!a || a.byteLength !== b.length) return false;
  const view = new Uint8Array(a);
  return view.every((x, i) => x === b[i]);
}
