// The installable app and notifications: the manifest and the service worker register; a push
// given to the service worker (dispatched in it with its own PushEvent: Chromium cannot reach a
// real push service here) shows a notification whose click opens the conversation; the switch
// "Notifications on this browser" subscribes with the server's key and unsubscribes. The
// browser's push manager is replaced by one that makes real P-256 keys but no network call.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bubble, credentials, eventually, launch, messageActions, messages, newPerson, openChatWith, scenario, screenshots, send, signIn, signOut, signUp } from './lib.mjs';

/** A PushManager that behaves like Chromium's, without a push service (set up before any script). */
function fakePushManager() {
  const state = { subscription: null, keys: [], unsubscribed: 0 };
  window.__push = state;
  const b64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  PushManager.prototype.getSubscription = async () => state.subscription;
  PushManager.prototype.subscribe = async (options) => {
    const pair = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits']);
    const p256dh = b64(await crypto.subtle.exportKey('raw', pair.publicKey));
    const auth = b64(crypto.getRandomValues(new Uint8Array(16)));
    const endpoint = `http://127.0.0.1:9/push/${crypto.randomUUID()}`;
    state.keys.push(b64(options.applicationServerKey));
    state.subscription = {
      endpoint,
      options: { applicationServerKey: new Uint8Array(options.applicationServerKey).buffer },
      toJSON: () => ({ endpoint, keys: { p256dh, auth } }),
      unsubscribe: async () => {
        state.unsubscribed++;
        state.subscription = null;
        return true;
      },
    };
    return state.subscription;
  };
}

/** The context's GoChat service worker (the newest, should one be replacing another). */
function currentWorker(context) {
  return context.serviceWorkers().findLast((w) => w.url().endsWith('/sw.js'));
}

describe('push', () => {
  let browser;
  let ann;
  let conversation;
  let serviceWorker;
  const annUser = credentials('ann');
  const bobUser = credentials('bob');
  const step = scenario(it);

  before(async () => {
    browser = await launch();
    ann = await newPerson(browser);
    await ann.context.grantPermissions(['notifications']);
    await ann.context.addInitScript(fakePushManager);
  });
  after(async () => {
    await browser?.close();
  });

  step('the manifest and the service worker register', async () => {
    const bob = await newPerson(browser);
    await signUp(bob.page, bobUser);
    await bob.context.close();
    await signUp(ann.page, annUser);
    const manifest = await ann.page.evaluate(async () => {
      const link = document.querySelector('link[rel="manifest"]');
      const res = await fetch(link.href);
      const body = await res.json();
      const icons = await Promise.all(body.icons.map(async (i) => (await fetch(i.src)).headers.get('content-type')));
      return { type: res.headers.get('content-type'), name: body.name, display: body.display, icons };
    });
    assert.deepEqual(manifest, {
      type: 'application/manifest+json',
      name: 'GoChat',
      display: 'standalone',
      icons: ['image/png', 'image/png', 'image/png'],
    });
    const script = await ann.page.evaluate(async () => (await navigator.serviceWorker.ready).active.scriptURL);
    assert.equal(new URL(script).pathname, '/sw.js');
    serviceWorker = currentWorker(ann.context) ?? (await ann.context.waitForEvent('serviceworker'));
  });

  step('a push shows a notification, and its click opens the conversation', async () => {
    conversation = await ann.page.evaluate(async (username) => {
      const users = await (await fetch(`/api/users?q=${username}`)).json();
      const res = await fetch('/api/conversations', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ peerId: users.users[0].id }),
      });
      return (await res.json()).conversation;
    }, bobUser.username);
    const push = {
      kind: 'message',
      conversationId: conversation.id,
      seq: 1,
      from: { id: conversation.peer.id, username: bobUser.username },
      preview: 'Dinner at eight?',
    };
    // Dispatched in the worker the way the browser delivers a push (again, should the worker
    // that took it have been replaced meanwhile).
    const shown = await eventually(
      async () => {
        serviceWorker = currentWorker(ann.context) ?? serviceWorker;
        const list = await serviceWorker.evaluate(async (data) => {
          const shown = await self.registration.getNotifications();
          if (shown.length === 0) self.dispatchEvent(new PushEvent('push', { data }));
          return shown.map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data }));
        }, JSON.stringify(push));
        assert.equal(list.length, 1);
        return list[0];
      },
      { what: 'the notification' },
    );
    assert.deepEqual(shown, {
      title: bobUser.username,
      body: 'Dinner at eight?',
      tag: `conversation-${conversation.id}`,
      data: { conversationId: conversation.id, seq: 1 },
    });

    assert.equal(new URL(ann.page.url()).pathname, '/');
    await serviceWorker.evaluate(async () => {
      const [notification] = await self.registration.getNotifications();
      self.dispatchEvent(new NotificationEvent('notificationclick', { notification }));
    });
    await eventually(async () => assert.equal(new URL(ann.page.url()).pathname, `/c/${conversation.id}`), {
      what: 'the conversation to open',
    });
    await ann.page.getByRole('heading', { name: bobUser.username }).first().waitFor();
  });

  step('the switch subscribes this browser with the server key, and unsubscribes it', async () => {
    const page = ann.page;
    await page.getByTestId('bell').click();
    const toggle = page.getByRole('switch', { name: 'Notifications on this browser' });
    assert.equal(await toggle.getAttribute('aria-checked'), 'false');

    const subscribed = page.waitForResponse((r) => r.url().endsWith('/api/push/subscriptions') && r.request().method() === 'POST');
    await toggle.click();
    assert.equal((await subscribed).status(), 201);
    await eventually(async () => assert.equal(await toggle.getAttribute('aria-checked'), 'true'), { what: 'the switch on' });
    const { publicKey } = await page.evaluate(async () => (await fetch('/api/push/key')).json());
    assert.deepEqual(await page.evaluate(() => window.__push.keys), [publicKey]);

    // It stays on across a reload of the page.
    await page.reload();
    await page.getByTestId('bell').click();
    assert.equal(await toggle.getAttribute('aria-checked'), 'true');
    await screenshots(page, 'notifications-switch');

    const unsubscribed = page.waitForResponse((r) => r.url().endsWith('/api/push/subscriptions') && r.request().method() === 'DELETE');
    await toggle.click();
    assert.equal((await unsubscribed).status(), 204);
    await eventually(async () => assert.equal(await toggle.getAttribute('aria-checked'), 'false'), { what: 'the switch off' });
    assert.equal(await page.evaluate(() => window.__push.unsubscribed), 1);
  });

  /** Delivers `push` to ann's service worker as the browser does, again should the worker that took it have been replaced meanwhile, until it shows the notification of `seq`. */
  async function pushUntilShown(push, seq) {
    await eventually(
      async () => {
        serviceWorker = currentWorker(ann.context) ?? serviceWorker;
        const seqs = await serviceWorker.evaluate(async (data) => {
          const list = await self.registration.getNotifications();
          if (list.length === 0) self.dispatchEvent(new PushEvent('push', { data }));
          return list.map((n) => n.data.seq);
        }, JSON.stringify(push));
        assert.deepEqual(seqs, [seq]);
      },
      { what: 'the notification' },
    );
  }

  step('a notification is withdrawn when its message is deleted', async () => {
    const bob = await newPerson(browser);
    await signIn(bob.page, bobUser);
    await openChatWith(bob.page, annUser.username);
    await send(bob.page, 'first thought');
    await send(bob.page, 'Dinner at nine?');
    const row = bubble(bob.page, 'Dinner at nine?');
    await row.and(bob.page.locator('[data-seq]')).waitFor();
    const seq = Number(await row.getAttribute('data-seq'));
    // Shown for it as for any push (ann's tab is open: the server itself would not push).
    const push = { kind: 'message', conversationId: conversation.id, seq, from: { id: conversation.peer.id, username: bobUser.username }, preview: 'Dinner at nine?' };
    await pushUntilShown(push, seq);
    const shown = () => serviceWorker.evaluate(async () => (await self.registration.getNotifications()).map((n) => n.data.seq));

    const remove = async (text) => {
      const menu = await messageActions(bob.page, bubble(bob.page, text));
      await menu.getByRole('menuitem', { name: 'Delete' }).click();
      await bob.page.getByRole('dialog', { name: 'Delete message?' }).getByRole('button', { name: 'Delete', exact: true }).click();
    };
    // Another message of the conversation deleted: this notification stays.
    await remove('first thought');
    await messages(ann.page).and(ann.page.locator('[data-deleted="true"]')).waitFor({ timeout: 15_000 }); // ann's tab knows
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(await shown(), [seq]);
    // Its own message deleted: withdrawn.
    await remove('Dinner at nine?');
    await eventually(async () => assert.deepEqual(await shown(), []), { what: 'the notification withdrawn' });
    await bob.context.close();
  });

  step('a notification whose message was deleted while no tab was open goes when a tab opens', async () => {
    const bob = await newPerson(browser);
    await signIn(bob.page, bobUser);
    await openChatWith(bob.page, annUser.username);
    await send(bob.page, 'Lunch tomorrow?');
    const row = bubble(bob.page, 'Lunch tomorrow?');
    await row.and(bob.page.locator('[data-seq]')).waitFor();
    const seq = Number(await row.getAttribute('data-seq'));
    const push = { kind: 'message', conversationId: conversation.id, seq, from: { id: conversation.peer.id, username: bobUser.username }, preview: 'Lunch tomorrow?' };
    await pushUntilShown(push, seq);
    const shown = async () => {
      serviceWorker = currentWorker(ann.context) ?? serviceWorker;
      return serviceWorker.evaluate(async () => (await self.registration.getNotifications()).map((n) => n.data.seq));
    };

    // Ann closes GoChat; bob takes his message back meanwhile.
    await ann.page.close();
    const menu = await messageActions(bob.page, row);
    await menu.getByRole('menuitem', { name: 'Delete' }).click();
    await bob.page.getByRole('dialog', { name: 'Delete message?' }).getByRole('button', { name: 'Delete', exact: true }).click();
    await messages(bob.page).and(bob.page.locator('[data-deleted="true"]')).last().waitFor();
    await bob.context.close();

    ann.page = await ann.context.newPage();
    await ann.page.goto('/');
    await ann.page.getByTestId('me').waitFor();
    await eventually(async () => assert.deepEqual(await shown(), []), { what: 'the notification withdrawn' });
  });

  // The server ties a subscription to the session that registered it and drops it when that
  // session ends: each new session of this browser registers it again.
  step('this browser is registered again after signing out and in, and after its session ended elsewhere', async () => {
    const page = ann.page;
    const toggle = page.getByRole('switch', { name: 'Notifications on this browser' });
    const request = (method) =>
      page.waitForResponse((r) => r.url().endsWith('/api/push/subscriptions') && r.request().method() === method);

    await page.getByTestId('bell').click();
    let registered = request('POST');
    await toggle.click();
    assert.equal((await registered).status(), 201);
    await eventually(async () => assert.equal(await toggle.getAttribute('aria-checked'), 'true'), { what: 'the switch on' });

    // Signing out turns it off here (unsubscribing first); signed in again, it is turned on again.
    await page.reload();
    await page.getByTestId('me').waitFor();
    const unsubscribed = request('DELETE');
    await signOut(page);
    assert.equal((await unsubscribed).status(), 204);
    await signIn(page, annUser);
    await page.getByTestId('bell').click();
    assert.equal(await toggle.getAttribute('aria-checked'), 'false');
    registered = request('POST');
    await toggle.click();
    assert.equal((await registered).status(), 201);
    await eventually(async () => assert.equal(await toggle.getAttribute('aria-checked'), 'true'), { what: 'the switch on again' });

    // Ann changes her password in another browser: this one's session ends, and its
    // subscription with it. Signing in here again registers the browser for the new session
    // without asking: notifications were on here.
    const other = await newPerson(browser);
    await signIn(other.page, annUser);
    const newPassword = `${annUser.password}-new`;
    const status = await other.page.evaluate(
      async (body) =>
        (await fetch('/api/auth/password', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }))
          .status,
      { currentPassword: annUser.password, newPassword },
    );
    assert.equal(status, 200);
    annUser.password = newPassword;
    await other.context.close();
    await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor({ timeout: 15_000 });
    registered = request('POST');
    await signIn(page, annUser);
    assert.equal((await registered).status(), 201);
    await page.getByTestId('bell').click();
    assert.equal(await toggle.getAttribute('aria-checked'), 'true');
  });
});
