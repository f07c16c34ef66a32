// GoChat's service worker: shows Web Push messages as notifications, and opens the conversation
// when one is clicked. It has no fetch handler, so it never caches or answers a request (the API
// least of all): the browser's own cache already keeps the content-hashed assets, and everything
// else must be fresh.
//
// A push carries {"kind":"message","conversationId","seq","from":{"id","username"},"preview",
// "mentioned","groupTitle"} (PushMessage in services/proto), sent by the server only while no tab
// of the user is open.

self.addEventListener('install', () => {
  self.skipWaiting();
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener('push', (event) => {
  event.waitUntil(showPush(readPush(event.data)));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const id = event.notification.data && event.notification.data.conversationId;
  event.waitUntil(openPath(id ? `/c/${encodeURIComponent(id)}` : '/'));
});

/** The push's message, or null when it is not one this version understands. */
function readPush(data) {
  try {
    const push = data ? data.json() : null;
    return push && push.kind === 'message' && push.from && push.conversationId ? push : null;
  } catch {
    return null;
  }
}

/** One notification per conversation: a newer message replaces the older one (and rings again). */
function showPush(push) {
  if (!push) {
    // A browser that shows nothing for a push may stop delivering them: say something.
    return self.registration.showNotification('GoChat', { body: 'You have a new message.', tag: 'gochat' });
  }
  return self.registration.showNotification(titleOf(push), {
    body: push.preview || 'New message',
    tag: `conversation-${push.conversationId}`,
    renotify: true,
    icon: '/icons/icon-192.png',
    badge: '/icons/icon-192.png',
    data: { conversationId: push.conversationId, seq: push.seq },
  });
}

/**
 * "ann mentioned you in Team", "ann in Team" or "ann": worded as the page words its notifications
 * (src/features/notifications/wording.ts, which a worker cannot import).
 */
function titleOf(push) {
  const where = typeof push.groupTitle === 'string' ? ` in ${push.groupTitle}` : '';
  return push.from.username + (push.mentioned === true ? ` mentioned you${where}` : where);
}

/** Focuses an open GoChat window and shows `path` there, or opens a new one. */
async function openPath(path) {
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const open = windows.find((w) => new URL(w.url).origin === self.location.origin);
  if (open) {
    open.postMessage({ type: 'gochat.open', path });
    // Allowed only during a real click; the conversation is shown either way.
    await open.focus().catch(() => {});
    return;
  }
  await self.clients.openWindow(path);
}
