// Alice and Bob chat: presence, both directions, ticks to read, the bell, reload, offline and
// back, and a message that looks like HTML.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  credentials,
  DESKTOP,
  eventually,
  launch,
  messages,
  newPerson,
  openChats,
  openPeople,
  readsSentBy,
  scenario,
  screenshots,
  searchBox,
  send,
  signUp,
} from './lib.mjs';

const XSS = '<img src=x onerror=alert(1)>';

describe('chat', () => {
  let browser;
  let alice;
  let bob;
  const aliceUser = credentials('alice');
  const bobUser = credentials('bob');
  const step = scenario(it);

  const person = (page, username) => page.locator(`[data-testid="person"][data-username="${username}"]`);
  const conversationRow = (page, username) => page.locator(`[data-testid="conversation"][data-peer="${username}"]`);
  const lastMine = (page) => messages(page).and(page.locator('[data-mine="true"]')).last();
  const bubble = (page, text) => messages(page).filter({ hasText: text });
  /** The read watermarks bob's tabs send, as sent. */
  let bobReads = [];

  before(async () => {
    browser = await launch();
    alice = await newPerson(browser);
    bob = await newPerson(browser);
    bobReads = readsSentBy(bob.page);
  });
  after(async () => {
    await browser?.close();
  });

  step('alice and bob sign up and see each other online', async () => {
    await signUp(alice.page, aliceUser);
    await signUp(bob.page, bobUser);
    await openPeople(alice.page);
    await openPeople(bob.page);
    await person(alice.page, bobUser.username).and(alice.page.locator('[data-online="true"]')).waitFor({ timeout: 15_000 });
    await person(bob.page, aliceUser.username).and(bob.page.locator('[data-online="true"]')).waitFor({ timeout: 15_000 });
  });

  step('alice finds bob by name and writes to him; his bell and his chat list count it', async () => {
    await openChats(bob.page); // bob is not looking at the conversation
    await alice.page.getByLabel('Search people').fill(bobUser.username);
    await person(alice.page, bobUser.username).click();
    await alice.page.getByTestId('chat-title').filter({ hasText: bobUser.username }).waitFor();
    // The name is done with: left in the box, it would filter the Chats tab, hiding new chats.
    assert.equal(await alice.page.getByRole('searchbox').inputValue(), '');
    await conversationRow(alice.page, bobUser.username).waitFor();
    await send(alice.page, 'Hi Bob! https://example.com/docs');
    await bubble(alice.page, 'Hi Bob!').waitFor();

    await bob.page.getByTestId('bell-count').filter({ hasText: /^1$/ }).waitFor({ timeout: 15_000 });
    await conversationRow(bob.page, aliceUser.username).getByTestId('unread-badge').filter({ hasText: '1' }).waitFor();
    await eventually(async () => assert.match(await bob.page.title(), /^\(1\) /), { what: 'unread count in the title' });
    // Delivered (bob's tab has it) before read.
    await lastMine(alice.page).and(alice.page.locator('[data-status="delivered"]')).waitFor({ timeout: 15_000 });
    await bob.page.getByTestId('bell').click();
    await bob.page.getByRole('dialog', { name: 'Notifications' }).getByTestId('notification').first().waitFor();
    await screenshots(bob.page, 'notifications');
    await bob.page.keyboard.press('Escape');
  });

  step('dismissing the notifications leaves the chat unread, and tells alice nothing', async () => {
    await bob.page.getByTestId('bell').click();
    const panel = bob.page.getByRole('dialog', { name: 'Notifications' });
    await panel.getByText('Chats stay unread until you open them.').waitFor();
    await panel.getByRole('button', { name: 'Dismiss all', exact: true }).click();
    await eventually(async () => assert.equal(await bob.page.getByTestId('bell-count').count(), 0), { what: 'bell cleared' });
    await screenshots(bob.page, 'notifications-dismissed');
    await bob.page.keyboard.press('Escape');
    await conversationRow(bob.page, aliceUser.username).getByTestId('unread-badge').filter({ hasText: '1' }).waitFor();
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await lastMine(alice.page).getAttribute('data-status'), 'delivered');
  });

  step('bob opens the chat: the bell clears and alice sees read ticks', async () => {
    await conversationRow(bob.page, aliceUser.username).click();
    await bubble(bob.page, 'Hi Bob!').waitFor();
    await eventually(async () => assert.equal(await conversationRow(bob.page, aliceUser.username).getByTestId('unread-badge').count(), 0), { what: 'chat read' });
    const link = bubble(bob.page, 'Hi Bob!').getByRole('link');
    assert.equal(await link.getAttribute('href'), 'https://example.com/docs');
    assert.equal(await link.getAttribute('rel'), 'noopener noreferrer');
    await eventually(async () => assert.equal(await bob.page.getByTestId('bell-count').count(), 0), { what: 'bell cleared' });
    await eventually(async () => assert.equal(await bob.page.title(), 'GoChat'), { what: 'title without unread' });
    await lastMine(alice.page).and(alice.page.locator('[data-status="read"]')).waitFor({ timeout: 15_000 });
  });

  step('bob answers; alice sees him typing, then the message', async () => {
    await bob.page.getByLabel('Message', { exact: true }).pressSequentially('Hello Al', { delay: 20 });
    await alice.page.getByTestId('chat-status').filter({ hasText: 'typing' }).waitFor({ timeout: 10_000 });
    await bob.page.getByLabel('Message', { exact: true }).pressSequentially('ice!');
    await bob.page.getByLabel('Message', { exact: true }).press('Enter');
    await bubble(alice.page, 'Hello Alice!').waitFor();
    await lastMine(bob.page).and(bob.page.locator('[data-status="read"]')).waitFor({ timeout: 15_000 });
    await screenshots(alice.page, 'chat');
  });

  step('a message that looks like HTML is shown as text', async () => {
    await send(alice.page, XSS);
    const row = bubble(bob.page, XSS);
    await row.waitFor();
    assert.equal(await row.locator('img').count(), 0);
    assert.ok((await row.innerText()).includes(XSS));
    assert.deepEqual(bob.dialogs, []);
    assert.deepEqual(alice.dialogs, []);
  });

  step('the chat-list preview of a long right-to-left message shows its beginning, with “You:” too', async () => {
    const hebrew = 'שלום! זו הודעה ארוכה מאוד בעברית שנחתכת בתצוגה המקדימה של רשימת השיחות בצד';
    await send(bob.page, hebrew);
    /** Whether the first word of the row's preview lies inside the preview's box (the rest is cut). */
    const firstWordShown = (page, peer) =>
      conversationRow(page, peer)
        .getByTestId('preview')
        .filter({ hasText: hebrew.slice(0, 20) })
        .evaluate((box, word) => {
          const walker = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
          let text = walker.nextNode();
          while (text && !text.data.includes(word)) text = walker.nextNode();
          const range = document.createRange();
          range.setStart(text, text.data.indexOf(word));
          range.setEnd(text, text.data.indexOf(word) + word.length);
          const [w, b] = [range.getBoundingClientRect(), box.getBoundingClientRect()];
          return { fits: box.scrollWidth > box.clientWidth && w.left >= b.left - 1 && w.right <= b.right + 1, word: [w.left, w.right], box: [b.left, b.right] };
        }, 'שלום');
    for (const [page, peer] of [
      [alice.page, bobUser.username],
      [bob.page, aliceUser.username],
    ]) {
      const seen = await eventually(() => firstWordShown(page, peer), { what: `${peer}’s row previewing it` });
      assert.ok(seen.fits, `a long preview, its first word inside: ${JSON.stringify(seen)}`);
    }
  });

  step('a reload keeps the history, and the message bob had not sent yet', async () => {
    const composer = bob.page.getByLabel('Message', { exact: true });
    await composer.fill('half-written, not sent');
    await bob.page.reload();
    await bubble(bob.page, 'Hi Bob!').waitFor();
    await bubble(bob.page, 'Hello Alice!').waitFor();
    await bubble(bob.page, XSS).waitFor();
    assert.equal(await composer.inputValue(), 'half-written, not sent');
    await bob.page.getByRole('button', { name: 'Send', exact: true }).click();
    await bubble(alice.page, 'half-written, not sent').waitFor();
    await bob.page.reload();
    await bubble(bob.page, 'half-written, not sent').waitFor();
    assert.equal(await composer.inputValue(), '', 'sent: no longer a draft');
  });

  step('bob offline for a while gets what was sent meanwhile, once', async () => {
    await bob.context.setOffline(true);
    await bob.page.getByTestId('connection-banner').waitFor();
    // Cut off, bob cannot know whether alice is still online: it is not asserted.
    await bob.page.getByTestId('chat-status').filter({ hasText: /^status unknown$/ }).waitFor();
    await send(alice.page, 'sent while you were away 1');
    await send(alice.page, 'sent while you were away 2');
    await lastMine(alice.page).filter({ hasText: 'away 2' }).and(alice.page.locator('[data-status="sent"]')).waitFor();
    await screenshots(bob.page, 'offline');
    await bob.context.setOffline(false);
    await bubble(bob.page, 'sent while you were away 2').waitFor({ timeout: 20_000 });
    assert.equal(await bubble(bob.page, 'sent while you were away 1').count(), 1);
    assert.equal(await bubble(bob.page, 'sent while you were away 2').count(), 1);
    await eventually(async () => assert.equal(await bob.page.getByTestId('connection-banner').count(), 0), { what: 'banner gone' });
    await bob.page.getByTestId('chat-status').filter({ hasText: /^online$/ }).waitFor();
    await lastMine(alice.page).and(alice.page.locator('[data-status="read"]')).waitFor({ timeout: 15_000 });
  });

  step('on a phone-sized screen the chat fills the screen', async () => {
    await bob.page.setViewportSize({ width: 390, height: 780 });
    await bubble(bob.page, 'Hi Bob!').waitFor();
    await screenshots(bob.page, 'phone-chat');
    await bob.page.getByRole('button', { name: 'Back to chats' }).click();
    await conversationRow(bob.page, aliceUser.username).waitFor();
    await screenshots(bob.page, 'phone-chats');
  });

  step('bob mutes the chat: alice’s messages still count in his list but never reach his bell', async () => {
    await bob.page.setViewportSize(DESKTOP);
    await conversationRow(bob.page, aliceUser.username).click();
    const mute = bob.page.getByRole('button', { name: 'Mute notifications' });
    await mute.click();
    await eventually(async () => assert.equal(await mute.getAttribute('aria-pressed'), 'true'), { what: 'muted' });
    // Away from the chat (a reload: the mute is the server's, not the tab's).
    await bob.page.goto('/');
    const row = conversationRow(bob.page, aliceUser.username);
    await row.getByRole('img', { name: 'Muted' }).waitFor();
    await send(alice.page, 'muted hello');
    await row.getByTestId('unread-badge').filter({ hasText: '1' }).waitFor({ timeout: 15_000 });
    assert.equal(await bob.page.title(), 'GoChat', 'a muted chat puts no count in the title');
    await screenshots(bob.page, 'muted');

    await row.click();
    await mute.click();
    await eventually(async () => assert.equal(await mute.getAttribute('aria-pressed'), 'false'), { what: 'unmuted' });
    await bob.page.goto('/');
    await send(alice.page, 'unmuted hello');
    await bob.page.getByTestId('bell-count').filter({ hasText: /^1$/ }).waitFor({ timeout: 15_000 });
    await bob.page.getByTestId('bell').click();
    const notes = bob.page.getByRole('dialog', { name: 'Notifications' }).getByTestId('notification');
    await notes.filter({ hasText: 'unmuted hello' }).waitFor();
    // "muted hello" is in "unmuted hello" too: one notification, the unmuted message's.
    assert.equal(await notes.filter({ hasText: 'muted hello' }).count(), 1, 'no notification of the muted message');
    await bob.page.keyboard.press('Escape');
  });

  step('Ctrl+K goes to the search box from the message box', async () => {
    await conversationRow(bob.page, aliceUser.username).click();
    await bob.page.getByLabel('Message', { exact: true }).focus();
    await bob.page.keyboard.press('Control+K');
    // Found by the name a screen reader says, which is what the box shows.
    assert.ok(await searchBox(bob.page).evaluate((box) => box === document.activeElement && box.placeholder === box.labels[0]?.textContent));
    await bob.page.keyboard.press('Escape');
  });

  step('the client runs under a strict Content-Security-Policy, which blocks inline script', async () => {
    const response = await alice.page.request.get('/');
    const csp = response.headers()['content-security-policy'] ?? '';
    for (const directive of ["script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"]) {
      assert.ok(csp.includes(directive), `CSP ${csp} lacks ${directive}`);
    }
    assert.equal(response.headers()['x-frame-options'], 'DENY');
    assert.equal(response.headers()['x-content-type-options'], 'nosniff');
    // A third tab proves the policy is enforced and its violations are seen: everything the
    // two chatting tabs did above (sockets included) stayed within it (next step).
    const probe = await newPerson(browser);
    await probe.page.goto('/signin');
    await probe.page.evaluate(() => {
      const script = document.createElement('script');
      script.textContent = 'window.inlineRan = true';
      document.head.append(script);
    });
    await eventually(() => assert.ok(probe.errors.some((e) => e.startsWith('CSP:')), 'violation reported'));
    assert.equal(await probe.page.evaluate(() => window.inlineRan), undefined);
    await probe.context.close();
  });

  step('scrolled up, bob reports read what he sees, not the rows rendered below it', async () => {
    await bob.page.setViewportSize({ width: 1280, height: 800 });
    await conversationRow(bob.page, aliceUser.username).click();
    for (let i = 1; i <= 30; i++) await send(alice.page, `line ${i}`);
    await lastMine(alice.page).filter({ hasText: 'line 30' }).and(alice.page.locator('[data-status="read"]')).waitFor({ timeout: 15_000 });
    // Bob scrolls up, as a reader does; alice writes on, below what he sees.
    await bob.page.getByRole('log', { name: 'Messages' }).hover();
    await bob.page.mouse.wheel(0, -300);
    await bob.page.getByTestId('new-messages').waitFor();
    // At once, still within what the list takes for a burst (the 30 lines came a moment ago): not pulled down.
    for (let i = 1; i <= 6; i++) await send(alice.page, `below the fold ${i}`);
    await bob.page.getByTestId('new-messages').filter({ hasText: '6 new messages' }).waitFor();
    // He scrolls down part of the way: some of them come into sight, the others stay below.
    await bob.page.mouse.wheel(0, 350);
    await new Promise((r) => setTimeout(r, 1000)); // time enough to report what it would
    const view = await bob.page.evaluate(() => {
      const list = document.querySelector('[role="log"][aria-label="Messages"]');
      const box = list.querySelector('[data-virtuoso-scroller]').getBoundingClientRect();
      const rows = [...list.querySelectorAll('[data-testid="message"][data-seq]')].map((el) => ({ seq: Number(el.dataset.seq), ...el.getBoundingClientRect().toJSON() }));
      return {
        lastWhole: Math.max(...rows.filter((r) => r.top >= box.top && r.bottom <= box.bottom).map((r) => r.seq)),
        lastPeeking: Math.max(...rows.filter((r) => r.top < box.bottom).map((r) => r.seq)),
        lastRendered: Math.max(...rows.map((r) => r.seq)),
      };
    });
    const lastSeq = Number(await bubble(alice.page, 'below the fold 6').getAttribute('data-seq'));
    assert.ok(view.lastRendered > view.lastPeeking, `rows are rendered below the visible area: ${JSON.stringify(view)}`);
    assert.ok(view.lastPeeking < lastSeq, `some of the new ones are out of sight: ${JSON.stringify(view)}`);
    const read = Math.max(...bobReads);
    assert.ok(read >= view.lastWhole && read <= view.lastPeeking, `read ${read}, on screen ${JSON.stringify(view)}`);
    assert.equal(await bubble(alice.page, 'below the fold 6').getAttribute('data-status'), 'delivered');
    // Scrolled down to the end, he has read them all.
    await bob.page.getByTestId('new-messages').click();
    await lastMine(alice.page).filter({ hasText: 'below the fold 6' }).and(alice.page.locator('[data-status="read"]')).waitFor({ timeout: 15_000 });
    assert.equal(Math.max(...bobReads), lastSeq);
  });

  step('no script errors on either page', async () => {
    assert.deepEqual(alice.errors, []);
    assert.deepEqual(bob.errors, []);
  });
});
