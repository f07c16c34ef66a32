#!/usr/bin/env node
// Screenshots of the built client against a fake backend (Playwright routes answer /api/* and
// /ws/*; files come from client/dist), for layout checks without a GoChat server. Also loads a
// 10,000-message conversation and reports how long the first render and a fast scroll take,
// and jumps from a search result to a message far outside the loaded page.
//
//   npm run build && node e2e/mock-screens.mjs     → e2e-artifacts/mock-*.png
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { artifactsDir, clientDir, launch, searchBox } from './lib.mjs';

const dist = path.join(clientDir, 'dist');
const ORIGIN = 'http://gochat.test';
const now = Date.now();
const iso = (msAgo) => new Date(now - msAgo).toISOString();

const me = { id: 'u-me', username: 'alice', email: 'alice@example.com' };
const people = [
  { id: 'u-bob', username: 'bob', online: true, lastSeenAt: null },
  { id: 'u-carol', username: 'carol.m', online: true, lastSeenAt: null },
  { id: 'u-dave', username: 'dave_k', online: false, lastSeenAt: iso(7 * 60_000) },
  { id: 'u-erin', username: 'erin', online: false, lastSeenAt: iso(26 * 3600_000) },
  { id: 'u-me', username: 'alice', online: true, lastSeenAt: null },
];
const peer = (id) => people.find((p) => p.id === id);

const BIG = 10_000;
function bigMessage(seq) {
  const from = seq % 3 === 0 ? me.id : 'u-bob';
  const bodies = [
    'Sounds good 👍',
    'Did you see the release notes? https://example.com/releases/1.2',
    'I think we should move the meeting to Thursday, the room is booked on Wednesday afternoon and half the team is travelling.',
    'ok',
    '<b>not bold</b> & <script>alert(1)</script>',
  ];
  return v2({
    id: `m-big-${seq}`,
    conversationId: 'c-bob',
    seq,
    senderId: from,
    body: `${bodies[seq % bodies.length]} (#${seq})`,
    sentAt: iso((BIG - seq) * 45_000 + 60_000),
    clientId: `cl-big-${seq}`,
  });
}
/** The fields v2 messages carry, with their defaults. */
function v2(m) {
  return { replyToSeq: null, editedAt: null, deletedAt: null, reactions: [], attachments: [], ...m };
}
const big = Array.from({ length: BIG }, (_, i) => bigMessage(i + 1));

const small = (cid, from, rows) =>
  rows.map(([body, msAgo, extra], i) =>
    v2({
      id: `m-${cid}-${i + 1}`,
      conversationId: cid,
      seq: i + 1,
      senderId: from[i % from.length],
      body,
      sentAt: iso(msAgo),
      clientId: `cl-${cid}-${i + 1}`,
      ...extra,
    }),
  );
const carolMsgs = small('c-carol', ['u-carol', 'u-carol', me.id], [
  ['Are you coming tonight?', 3 * 3600_000],
  ['We start at 8', 3 * 3600_000 - 30_000],
  ['Yes! Bringing snacks', 2 * 3600_000],
  ['🎉', 5 * 60_000],
]);
const daveMsgs = small('c-dave', [me.id], [['Thanks for the review, merged.', 2 * 86_400_000]]);
const teamMsgs = small('c-team', ['u-bob', 'u-carol', me.id, 'u-bob', me.id, 'u-carol', me.id], [
  ['Who is in for the hike on Saturday?', 50 * 60_000],
  ['Me! Weather looks great', 48 * 60_000, { reactions: [{ emoji: '☀️', userIds: ['u-bob', me.id] }] }],
  ['Count me in. I can drive 🚗', 45 * 60_000, { editedAt: iso(44 * 60_000) }],
  ['', 40 * 60_000, { deletedAt: iso(39 * 60_000) }],
  ['Great, we leave at 8 from the station', 20 * 60_000, { replyToSeq: 1, reactions: [{ emoji: '👍', userIds: ['u-bob', 'u-carol'] }, { emoji: '🎉', userIds: ['u-carol'] }] }],
  ['Perfect, see you there!', 10 * 60_000, { replyToSeq: 5 }],
  ['I will bring snacks', 2 * 60_000],
]);
const team = {
  id: 'c-team',
  kind: 'group',
  title: 'Saturday hike',
  members: [
    { id: me.id, username: 'alice', role: 'owner' },
    { id: 'u-bob', username: 'bob', role: 'member' },
    { id: 'u-carol', username: 'carol.m', role: 'member' },
  ],
  lastMessage: teamMsgs[6],
  lastSeq: 7,
  unread: 0,
  myReadSeq: 7,
  receipts: [
    { userId: me.id, deliveredSeq: 7, readSeq: 7 },
    { userId: 'u-bob', deliveredSeq: 7, readSeq: 7 },
    { userId: 'u-carol', deliveredSeq: 7, readSeq: 6 },
  ],
  lastChange: 6,
};

const conversations = [
  team,
  { id: 'c-bob', kind: 'direct', peer: peer('u-bob'), lastMessage: big[BIG - 1], lastSeq: BIG, unread: 0, myReadSeq: BIG, peerDeliveredSeq: BIG, peerReadSeq: BIG - 2, lastChange: 0 },
  { id: 'c-carol', kind: 'direct', peer: peer('u-carol'), lastMessage: carolMsgs[3], lastSeq: 4, unread: 2, myReadSeq: 2, peerDeliveredSeq: 3, peerReadSeq: 3, lastChange: 0 },
  { id: 'c-dave', kind: 'direct', peer: peer('u-dave'), lastMessage: daveMsgs[0], lastSeq: 1, unread: 0, myReadSeq: 1, peerDeliveredSeq: 1, peerReadSeq: 1, lastChange: 0 },
];
const messagesOf = { 'c-bob': big, 'c-carol': carolMsgs, 'c-dave': daveMsgs, 'c-team': teamMsgs };
const searchResults = [
  { message: teamMsgs[0], snippet: 'Who is in for the hike on Saturday?' },
  { message: big[4999], snippet: big[4999].body },
  { message: big[9], snippet: big[9].body },
];
const notifications = [
  { id: 'n1', kind: 'message', conversationId: 'c-carol', seq: 4, from: { id: 'u-carol', username: 'carol.m' }, preview: '🎉', createdAt: iso(5 * 60_000), readAt: null },
  { id: 'n2', kind: 'message', conversationId: 'c-carol', seq: 2, from: { id: 'u-carol', username: 'carol.m' }, preview: 'We start at 8', createdAt: iso(3 * 3600_000), readAt: null },
  { id: 'n3', kind: 'message', conversationId: 'c-dave', seq: 1, from: { id: 'u-dave', username: 'dave_k' }, preview: 'Can you review my PR?', createdAt: iso(3 * 86_400_000), readAt: iso(2 * 86_400_000) },
];

function api(url) {
  const p = url.pathname;
  if (p === '/api/auth/currentuser') return { currentUser: me };
  if (p === '/api/users') {
    const q = (url.searchParams.get('q') ?? '').toLowerCase();
    return { users: people.filter((u) => u.username.toLowerCase().startsWith(q)), nextCursor: null };
  }
  if (p === '/api/conversations') return { conversations };
  if (p === '/api/users/blocked') return { users: [] };
  if (p === '/api/search') return { results: searchResults, nextCursor: null };
  const changes = /^\/api\/conversations\/([^/]+)\/changes$/.exec(p);
  if (changes) return { messages: [], lastChange: conversations.find((c) => c.id === changes[1])?.lastChange ?? 0, hasMore: false };
  if (p === '/api/notifications') return { notifications, unreadCount: 2 };
  const m = /^\/api\/conversations\/([^/]+)\/messages$/.exec(p);
  if (m) {
    const all = messagesOf[m[1]] ?? [];
    const limit = Number(url.searchParams.get('limit') ?? 50);
    const before = url.searchParams.get('before');
    const after = url.searchParams.get('after');
    if (after !== null) {
      const rest = all.filter((x) => x.seq > Number(after));
      return { messages: rest.slice(0, limit), hasMore: rest.length > limit };
    }
    const upto = before !== null ? all.filter((x) => x.seq < Number(before)) : all;
    return { messages: upto.slice(-limit), hasMore: upto.length > limit };
  }
  return null;
}

async function fakeBackend(context, { pendingFail = false } = {}) {
  await context.route(`${ORIGIN}/**`, async (route) => {
    const url = new URL(route.request().url());
    if (url.pathname.startsWith('/api/')) {
      const body = api(url);
      if (body === null) return route.fulfill({ status: route.request().method() === 'POST' ? 204 : 404, body: '' });
      return route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(body) });
    }
    const file = url.pathname.startsWith('/assets/') ? path.join(dist, url.pathname) : path.join(dist, 'index.html');
    const type = file.endsWith('.js') ? 'text/javascript' : file.endsWith('.css') ? 'text/css' : file.endsWith('.svg') ? 'image/svg+xml' : 'text/html';
    return route.fulfill({ status: 200, contentType: type, body: await readFile(file) });
  });
  const sockets = [];
  await context.routeWebSocket(/\/ws\//, (ws) => {
    sockets.push(ws);
    ws.onMessage((data) => {
      const frame = JSON.parse(String(data));
      if (frame.type === 'ping') ws.send(JSON.stringify({ type: 'pong' }));
      if (frame.type !== 'send') return;
      if (pendingFail && frame.body.includes('refused')) {
        ws.send(JSON.stringify({ type: 'error', code: 'rate_limited', message: 'Too many messages. Try again.', clientId: frame.clientId }));
      } else if (!pendingFail || !frame.body.includes('pending')) {
        ws.send(JSON.stringify({ type: 'accepted', clientId: frame.clientId }));
      }
    });
  });
  return sockets;
}

async function shoot(page, name) {
  for (const colorScheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme });
    await page.screenshot({ path: path.join(artifactsDir, `mock-${name}-${colorScheme}.png`) });
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

const browser = await launch();
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const sockets = await fakeBackend(context, { pendingFail: true });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('pageerror', e));

  await page.goto(`${ORIGIN}/`);
  await page.getByTestId('conversation').first().waitFor();
  await shoot(page, 'home');

  let t = Date.now();
  await page.getByTestId('conversation').filter({ hasText: 'bob' }).click();
  await page.getByTestId('message').filter({ hasText: `#${BIG}` }).waitFor();
  console.log(`open a ${BIG}-message chat (newest page): ${Date.now() - t} ms`);
  // Typing from bob, then a failed send of ours.
  const chat = sockets.find((s) => s.url().endsWith('/ws/chat'));
  chat.send(JSON.stringify({ type: 'typing', conversationId: 'c-bob', userId: 'u-bob' }));
  for (const text of ['This one is refused by the server', 'This one stays pending']) {
    await page.getByLabel('Message', { exact: true }).fill(text);
    await page.getByRole('button', { name: 'Send', exact: true }).click();
  }
  await page.getByRole('button', { name: 'Retry', exact: true }).waitFor();
  await page.getByLabel('Message', { exact: true }).fill('Draft in progress…');
  await shoot(page, 'chat');

  // Scroll all the way up through 10,000 messages, page by page.
  t = Date.now();
  const scroller = page.getByRole('log', { name: 'Messages' }).locator('[data-testid="virtuoso-scroller"]');
  let oldest = Infinity;
  for (let i = 0; i < 600 && oldest > 1; i++) {
    await scroller.evaluate((el) => (el.scrollTop = 0));
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    oldest = Math.min(...(await page.getByTestId('message').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-seq') || Infinity)))));
  }
  console.log(`scrolled to the first of ${BIG} messages: ${Date.now() - t} ms (oldest rendered seq ${oldest})`);
  const rendered = await page.getByTestId('message').count();
  console.log(`rows in the DOM with ${BIG} loaded: ${rendered}`);
  // Jump around the whole loaded history; each jump renders within a frame or two.
  const jumps = await scroller.evaluate(async (el) => {
    const frame = () => new Promise((r) => requestAnimationFrame(r));
    const times = [];
    for (let i = 0; i < 40; i++) {
      const t0 = performance.now();
      el.scrollTop = ((i * 7919) % 40) / 40 * el.scrollHeight;
      await frame();
      await frame();
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    return { median: times[20], worst: times[39] };
  });
  console.log(`random jumps across ${BIG} messages: median ${jumps.median.toFixed(1)} ms, worst ${jumps.worst.toFixed(1)} ms (two frames each)`);
  await scroller.evaluate((el) => (el.scrollTop = 0));
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  await shoot(page, 'chat-top');

  await page.getByRole('button', { name: /new message|Scroll to latest/ }).click();
  await page.getByTestId('bell').click();
  await page.getByRole('dialog', { name: 'Notifications' }).waitFor();
  await shoot(page, 'notifications');
  await page.keyboard.press('Escape');

  await page.getByRole('tab', { name: 'People' }).click();
  await page.getByTestId('person').first().waitFor();
  await shoot(page, 'people');
  await page.getByRole('tab', { name: /^Chats/ }).click();

  // A group: names, replies, reactions, edited and deleted messages, "read by".
  await page.locator('[data-testid="conversation"][data-title="Saturday hike"]').click();
  await page.getByTestId('message').filter({ hasText: 'snacks' }).waitFor();
  await shoot(page, 'group');
  const row = page.getByTestId('message').filter({ hasText: 'Count me in' });
  await row.hover();
  await row.getByRole('button', { name: 'Message actions' }).click();
  await shoot(page, 'message-actions');
  await page.getByRole('menuitem', { name: 'React' }).click();
  await shoot(page, 'react');
  await page.keyboard.press('Escape');
  await page.getByRole('button', { name: 'Group info' }).click();
  await page.getByRole('complementary', { name: 'Group info' }).waitFor();
  await shoot(page, 'group-info');
  await page.getByRole('button', { name: 'Close group info' }).click();
  await page.getByRole('button', { name: 'New group', exact: true }).click();
  await page.getByRole('checkbox').first().waitFor();
  await shoot(page, 'new-group');
  await page.keyboard.press('Escape');

  // Search, then a result far outside the loaded page of a 10,000-message chat.
  await searchBox(page).fill('hike');
  await page.getByTestId('search-result').first().waitFor();
  await shoot(page, 'search');
  t = Date.now();
  await page.getByTestId('search-result').filter({ hasText: '#5000' }).click();
  await page.locator('[data-testid="message"][data-seq="5000"][data-highlighted="true"]').waitFor();
  console.log(`jump to message 5000 of ${BIG} from a search result: ${Date.now() - t} ms`);
  await shoot(page, 'search-jump');
  await searchBox(page).fill('');
  await page.getByTestId('new-messages').click();
  await page.getByTestId('message').filter({ hasText: `#${BIG}` }).waitFor();

  // Phone.
  const phone = await browser.newContext({ viewport: { width: 390, height: 800 }, isMobile: true, hasTouch: true });
  await fakeBackend(phone);
  const p2 = await phone.newPage();
  await p2.goto(`${ORIGIN}/`);
  await p2.getByTestId('conversation').first().waitFor();
  await shoot(p2, 'phone-home');
  await p2.getByTestId('conversation').filter({ hasText: 'carol' }).click();
  await p2.getByTestId('message').first().waitFor();
  await shoot(p2, 'phone-chat');

  // Offline banner.
  await context.setOffline(true);
  await page.getByTestId('connection-banner').waitFor();
  await page.getByRole('tab', { name: /^Chats/ }).click();
  const gap = await page
    .getByRole('log', { name: 'Messages' })
    .locator('[data-testid="virtuoso-scroller"]')
    .evaluate((el) => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(el.scrollHeight - el.scrollTop - el.clientHeight)))));
  console.log(`distance from the bottom after the banner appeared: ${gap}px (0 = still pinned)`);
  await shoot(page, 'offline');
} finally {
  await browser.close();
}
