// A group: a newcomer's first screen, alice creates a group with bob and carol, all three chat
// live (typing names, "read by", a mention, and bob away from it told of one), bob renames it, alice adds dave who sees the
// history, carol leaves, and alice leaves too, handing the group to dave.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  baseURL,
  bubble,
  chatRow,
  credentials,
  eventually,
  launch,
  messages,
  newPerson,
  PHONE,
  DESKTOP,
  scenario,
  screenshots,
  screenshotsBothSizes,
  searchBox,
  send,
  signUp,
} from './lib.mjs';

describe('groups', () => {
  let browser;
  const people = {};
  const users = { alice: credentials('alice'), bob: credentials('bob'), carol: credentials('carol'), dave: credentials('dave') };
  const step = scenario(it);
  let title = 'Weekend trip';
  const renamed = 'Weekend trip 🏕️';

  const header = (page) => page.getByTestId('chat-title');
  const groupInfo = (page) => page.getByRole('complementary', { name: 'Group info' });
  async function openGroupInfo(page) {
    if ((await groupInfo(page).count()) === 0) await page.getByRole('button', { name: 'Group info', exact: true }).click();
    return groupInfo(page);
  }
  async function pick(page, username) {
    await page.getByLabel('Find people').fill(username);
    await page.getByRole('checkbox', { name: username, exact: true }).check();
  }

  before(async () => {
    browser = await launch();
    for (const name of Object.keys(users)) people[name] = await newPerson(browser);
  });
  after(async () => {
    await browser?.close();
  });

  step('everyone signs up; a newcomer sees people to talk to instead of an empty list', async () => {
    for (const [name, user] of Object.entries(users)) await signUp(people[name].page, user);
    const { page } = people.dave;
    await page.reload();
    const welcome = page.getByTestId('welcome');
    await welcome.waitFor();
    await welcome.getByTestId('suggested-person').filter({ hasText: users.alice.username }).waitFor();
    await screenshotsBothSizes(page, 'welcome');
  });

  step('alice creates a group with bob and carol', async () => {
    const { page } = people.alice;
    await page.getByRole('button', { name: 'New group', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'New group' });
    await dialog.waitFor();
    const create = dialog.getByRole('button', { name: 'Create group', exact: true });
    assert.equal(await create.isDisabled(), true, 'nothing to create yet');
    await dialog.getByLabel('Group name').fill(title);
    await pick(page, users.bob.username);
    await pick(page, users.carol.username);
    await dialog.getByRole('list', { name: 'Chosen people' }).getByText(users.bob.username).waitFor();
    await screenshots(page, 'new-group-dialog');
    await create.click();
    await header(page).filter({ hasText: title }).waitFor();
    await page.getByTestId('chat-status').filter({ hasText: '3 members' }).waitFor();
    await page.getByTestId('group-event').filter({ hasText: `You created the group “${title}” with` }).waitFor();
  });

  step('bob and carol see the group at once, and all three chat live', async () => {
    for (const name of ['bob', 'carol']) {
      const { page } = people[name];
      await chatRow(page, title).waitFor({ timeout: 15_000 });
      await chatRow(page, title).click();
      await header(page).filter({ hasText: title }).waitFor();
    }
    await send(people.alice.page, 'Hi all, plans for Saturday?');
    for (const name of ['bob', 'carol']) await bubble(people[name].page, 'plans for Saturday').waitFor();

    // carol types: the others see her name.
    await people.carol.page.getByLabel('Message', { exact: true }).pressSequentially('Hiking', { delay: 30 });
    for (const name of ['alice', 'bob']) {
      await people[name].page.getByTestId('chat-status').filter({ hasText: `${users.carol.username} is typing` }).waitFor({ timeout: 10_000 });
    }
    await people.carol.page.getByLabel('Message', { exact: true }).press('Enter');
    await send(people.bob.page, 'I bring the snacks');
    for (const name of ['alice', 'bob', 'carol']) {
      const { page } = people[name];
      await bubble(page, 'Hiking').waitFor();
      await bubble(page, 'I bring the snacks').waitFor();
    }
    // In a group, others' messages carry their sender's name.
    await bubble(people.alice.page, 'I bring the snacks').getByText(users.bob.username, { exact: true }).waitFor();
  });

  step('alice sees who read her message: "read by 2", with the names on focus', async () => {
    const { page } = people.alice;
    const readBy = bubble(page, 'plans for Saturday').getByTestId('read-by');
    await readBy.filter({ hasText: 'Read by 2' }).waitFor({ timeout: 15_000 });
    await readBy.focus();
    const tip = readBy.getByRole('tooltip');
    await tip.waitFor();
    const names = await tip.innerText();
    assert.ok(names.includes(users.bob.username) && names.includes(users.carol.username), names);
    await screenshots(page, 'read-by');
    await page.getByLabel('Message', { exact: true }).focus();
    await screenshotsBothSizes(page, 'group', async () => {
      await header(page).filter({ hasText: title }).waitFor();
    });
  });

  step('carol mentions bob through the picker; the mention stands out for bob', async () => {
    const { page } = people.carol;
    const box = page.getByLabel('Message', { exact: true });
    await box.pressSequentially(`@${users.bob.username.slice(0, 3)}`, { delay: 20 });
    const options = page.getByRole('listbox', { name: 'Mention someone' }).getByRole('option');
    await options.filter({ hasText: `@${users.bob.username}` }).waitFor();
    assert.equal(await options.filter({ hasText: users.carol.username }).count(), 0, 'nobody mentions themselves');
    await screenshots(page, 'mention-picker');
    await box.press('Enter');
    assert.equal(await box.inputValue(), `@${users.bob.username} `, 'Enter took the name and sent nothing');
    // At once: the caret must already be after the name.
    await box.pressSequentially('can you bring water?');
    await box.press('Enter');
    for (const name of ['alice', 'bob', 'carol']) {
      const mention = bubble(people[name].page, 'can you bring water').locator(`[data-mention="${users.bob.username}"]`);
      await mention.waitFor();
      // Only bob's own name is marked as his.
      assert.equal((await mention.getAttribute('class')).includes('amber'), name === 'bob', name);
    }
    await screenshots(people.bob.page, 'mention');
    // Sent with the picker open (the button, not Enter): the picker goes with the text.
    await box.pressSequentially(`see you @${users.bob.username.slice(0, 2)}`, { delay: 5 });
    await options.first().waitFor();
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await bubble(page, 'see you @').waitFor();
    await page.getByRole('listbox', { name: 'Mention someone' }).waitFor({ state: 'detached' });
    await box.press('Enter');
    assert.equal(await box.inputValue(), '', 'Enter in the empty box took no name');
  });

  step('bob, away from the group, is mentioned: an @ in his list and "mentioned you" in his bell, until he opens it (dismissing is not opening)', async () => {
    const { page } = people.bob;
    await page.goto(`${baseURL()}/`);
    const row = chatRow(page, title);
    await row.waitFor();
    await send(people.carol.page, `@${users.bob.username} the tent is yours`);
    const badge = row.getByRole('img', { name: 'mentioned', exact: true });
    await badge.waitFor({ timeout: 15_000 });
    await row.getByTestId('unread-badge').filter({ hasText: /^1$/ }).waitFor();
    assert.equal(await chatRow(people.alice.page, title).getByRole('img', { name: 'mentioned' }).count(), 0, 'only bob is mentioned');
    // A reload keeps it: the server lists the unread mentions with every page.
    await page.reload();
    await badge.waitFor();
    await screenshots(page, 'mentioned-list');
    await page.getByTestId('bell').click();
    const panel = page.getByRole('dialog', { name: 'Notifications' });
    await panel
      .getByTestId('notification')
      .filter({ hasText: 'the tent is yours' })
      .filter({ hasText: `${users.carol.username} mentioned you in ${title}` })
      .waitFor();
    await screenshots(page, 'mentioned-bell');
    // Dismissing clears the bell, not the "@": the group is still unread, also after a reload.
    await panel.getByRole('button', { name: 'Dismiss all' }).click();
    await page.keyboard.press('Escape');
    await eventually(async () => assert.equal(await page.getByTestId('bell-count').count(), 0), { what: 'the bell cleared' });
    await page.reload();
    await badge.waitFor();
    await row.click();
    await bubble(page, 'the tent is yours').waitFor();
    await eventually(async () => assert.equal(await badge.count(), 0), { what: 'the @ gone once the group is read' });
  });

  step('bob renames the group; everyone sees the new name', async () => {
    const { page } = people.bob;
    const info = await openGroupInfo(page);
    await info.getByRole('button', { name: 'Rename' }).click();
    await info.getByLabel('Group name').fill(renamed);
    await info.getByRole('button', { name: 'Save', exact: true }).click();
    await info.getByTestId('group-title').filter({ hasText: renamed }).waitFor();
    await screenshots(page, 'group-info');
    await info.getByRole('button', { name: 'Close group info' }).click();
    title = renamed;
    for (const name of ['alice', 'carol']) {
      await header(people[name].page).filter({ hasText: renamed }).waitFor({ timeout: 15_000 });
      await chatRow(people[name].page, renamed).waitFor();
    }
  });

  step('only the owner adds people: alice adds dave, who sees the whole history', async () => {
    const bobInfo = await openGroupInfo(people.bob.page);
    assert.equal(await bobInfo.getByRole('button', { name: 'Add members' }).count(), 0, 'bob is not the owner');
    await bobInfo.getByRole('button', { name: 'Close group info' }).click();

    const { page } = people.alice;
    const info = await openGroupInfo(page);
    await info.getByRole('button', { name: 'Add members' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add members' });
    await pick(page, users.dave.username);
    await dialog.getByRole('button', { name: 'Add', exact: true }).click();
    await info.getByTestId('member').filter({ hasText: users.dave.username }).waitFor();
    await page.getByTestId('chat-status').filter({ hasText: '4 members' }).waitFor();
    await info.getByRole('button', { name: 'Close group info' }).click();

    const dave = people.dave.page;
    await chatRow(dave, renamed).waitFor({ timeout: 15_000 });
    await chatRow(dave, renamed).click();
    await bubble(dave, 'plans for Saturday').waitFor();
    await bubble(dave, 'I bring the snacks').waitFor();
    // The timeline says who added whom: from the history for dave, live for the others.
    const note = (page, text) => page.getByTestId('group-event').filter({ hasText: text });
    await note(dave, `${users.alice.username} added you`).waitFor();
    await note(dave, `renamed the group to “${renamed}”`).waitFor();
    await note(page, `You added ${users.dave.username}`).waitFor();
    await note(people.bob.page, `${users.alice.username} added ${users.dave.username}`).waitFor({ timeout: 15_000 });
    await send(dave, 'Thanks for adding me!');
    for (const name of ['alice', 'bob', 'carol']) await bubble(people[name].page, 'Thanks for adding me').waitFor();
  });

  step('carol leaves: the group is gone from her list, the others see three members', async () => {
    const { page } = people.carol;
    const info = await openGroupInfo(page);
    await info.getByRole('button', { name: 'Leave group' }).click();
    await page.getByRole('dialog', { name: `Leave ${renamed}?` }).getByRole('button', { name: 'Leave', exact: true }).click();
    await eventually(async () => assert.equal(new URL(page.url()).pathname, '/'), { what: 'carol back on the chat list' });
    await eventually(async () => assert.equal(await chatRow(page, renamed).count(), 0), { what: 'group gone from carol’s list' });
    for (const name of ['alice', 'bob', 'dave']) {
      await people[name].page.getByTestId('chat-status').filter({ hasText: '3 members' }).waitFor({ timeout: 15_000 });
    }
    await people.bob.page.getByTestId('group-event').filter({ hasText: `${users.carol.username} left` }).waitFor();
    // What is said after she left does not reach her.
    await send(people.alice.page, 'Carol left, see you Saturday');
    await bubble(people.bob.page, 'Carol left').waitFor();
    await page.reload();
    await page.getByTestId('me').waitFor();
    assert.equal(await chatRow(page, renamed).count(), 0);
  });

  step('a former member keeps her name after a reload, even past the first page of people', async () => {
    // Thirty offline people who sort before carol, and carol offline: the directory's first page
    // (online first, then by name) no longer holds her, and the group no longer lists her.
    await people.carol.page.close();
    const others = await browser.newContext({ baseURL: baseURL() });
    const origin = { Origin: baseURL() };
    for (let i = 0; i < 30; i++) {
      const u = credentials('a_filler');
      const res = await others.request.post('/api/auth/signup', { data: u, headers: origin });
      assert.equal(res.status(), 201, await res.text());
    }
    const carol = async () => (await (await others.request.get(`/api/users?q=${users.carol.username}`)).json()).users[0];
    await eventually(async () => assert.equal((await carol()).online, false), { what: 'carol offline', timeout: 30_000 });
    const carolId = (await carol()).id;
    await others.close();

    const dave = people.dave.page;
    const lookup = dave.waitForRequest((r) => r.url().includes('/api/users?ids=') && r.url().includes(carolId));
    await dave.reload();
    await chatRow(dave, renamed).click();
    await lookup;
    await bubble(dave, 'Hiking').getByText(users.carol.username, { exact: true }).waitFor();
    // Her leaving, from the history, names her too.
    await dave.getByTestId('group-event').filter({ hasText: `${users.carol.username} left` }).waitFor();
  });

  step('the search box finds people too: dave opens a chat with carol from it', async () => {
    const dave = people.dave.page;
    await searchBox(dave).fill(users.carol.username);
    const found = dave.getByRole('region', { name: 'People found' });
    await found.getByTestId('person').filter({ hasText: users.carol.username }).waitFor();
    await screenshots(dave, 'search-people');
    await found.getByTestId('person').filter({ hasText: users.carol.username }).click();
    await header(dave).filter({ hasText: users.carol.username }).waitFor();
    await searchBox(dave).fill('');
  });

  step('bob, removed while he was offline, is told so when he is back', async () => {
    const bob = people.bob;
    await bob.context.setOffline(true);
    await bob.page.getByTestId('connection-banner').waitFor();
    const { page } = people.alice;
    const info = await openGroupInfo(page);
    await info.getByRole('button', { name: `Options for ${users.bob.username}`, exact: true }).click();
    await page.getByRole('menuitem', { name: `Remove ${users.bob.username} from the group` }).click();
    await page.getByRole('dialog', { name: `Remove ${users.bob.username}?` }).getByRole('button', { name: 'Remove', exact: true }).click();
    await page.getByTestId('chat-status').filter({ hasText: '2 members' }).waitFor();
    await info.getByRole('button', { name: 'Close group info' }).click();
    // He had the group open: back online, it goes, and he learns why.
    await header(bob.page).filter({ hasText: renamed }).waitFor();
    await bob.context.setOffline(false);
    await bob.page.getByTestId('notices').filter({ hasText: `You are no longer in ${renamed}.` }).waitFor({ timeout: 20_000 });
    await eventually(async () => assert.equal(new URL(bob.page.url()).pathname, '/'), { what: 'bob back on the chat list' });
    assert.equal(await chatRow(bob.page, renamed).count(), 0);
    await screenshots(bob.page, 'removed-while-away');
  });

  step('phone: the group fills the screen, and the info panel too', async () => {
    const { page } = people.alice;
    await page.setViewportSize(PHONE);
    await header(page).filter({ hasText: renamed }).waitFor();
    await openGroupInfo(page);
    await screenshots(page, 'group-info-phone');
    await groupInfo(page).getByRole('button', { name: 'Close group info' }).click();
    await page.setViewportSize(DESKTOP);
  });

  step('alice, the owner, leaves: dave is told he owns the group now and has its owner controls', async () => {
    const dave = people.dave.page;
    await chatRow(dave, renamed).click();
    await header(dave).filter({ hasText: renamed }).waitFor();
    const before = await openGroupInfo(dave);
    assert.equal(await before.getByRole('button', { name: 'Add members' }).count(), 0, 'dave is not the owner yet');

    const { page } = people.alice;
    const info = await openGroupInfo(page);
    await info.getByRole('button', { name: 'Leave group' }).click();
    await page.getByRole('dialog', { name: `Leave ${renamed}?` }).getByRole('button', { name: 'Leave', exact: true }).click();
    await eventually(async () => assert.equal(await chatRow(page, renamed).count(), 0), { what: 'group gone from alice’s list' });

    // Both happened in one write, the same instant: the notes keep the order they happened in.
    const notes = dave.getByTestId('group-event');
    await notes.filter({ hasText: 'You are now the owner' }).waitFor({ timeout: 15_000 });
    const said = await notes.allInnerTexts();
    assert.deepEqual(said.slice(-2), [`${users.alice.username} left`, 'You are now the owner'], said.join(' | '));
    const after = groupInfo(dave);
    await after.getByTestId('member').filter({ hasText: users.dave.username }).filter({ hasText: 'owner' }).waitFor();
    await after.getByRole('button', { name: 'Add members' }).waitFor();
    await screenshots(dave, 'new-owner');
    await after.getByRole('button', { name: 'Close group info' }).click();
  });

  step('no script errors on any page', async () => {
    for (const name of Object.keys(users)) {
      assert.deepEqual(people[name].errors, [], `${name}'s page`);
      assert.deepEqual(people[name].dialogs, [], `${name}'s page`);
    }
    assert.ok((await messages(people.dave.page).count()) > 0, 'dave still has the group open');
  });
});
