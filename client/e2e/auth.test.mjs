// Sign up, sign in, the session across reloads, sign out, changing the password, and the people list.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { credentials, eventually, launch, newPerson, openPeople, scenario, screenshots, signIn, signOut, signUp } from './lib.mjs';

describe('auth', () => {
  let browser;
  let alice;
  let bob;
  const aliceUser = credentials('alice');
  const bobUser = credentials('bob');
  const step = scenario(it);

  before(async () => {
    browser = await launch();
    alice = await newPerson(browser);
    bob = await newPerson(browser);
  });
  after(async () => {
    await browser?.close();
  });

  step('a signed-out visitor gets the sign-in form', async () => {
    await alice.page.goto('/');
    await alice.page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
    assert.match(new URL(alice.page.url()).pathname, /^\/signin$/);
    await screenshots(alice.page, 'signin');
    await alice.page.goto('/signup');
    await alice.page.getByRole('button', { name: 'Sign up', exact: true }).waitFor();
    await screenshots(alice.page, 'signup');
  });

  step('signing up signs in', async () => {
    await signUp(alice.page, aliceUser);
  });

  step('a reload keeps the session', async () => {
    await alice.page.reload();
    await alice.page.getByTestId('me').filter({ hasText: aliceUser.username }).waitFor();
  });

  step('a taken username is refused with a clear message', async () => {
    const other = await newPerson(browser);
    await other.page.goto('/signup');
    await other.page.getByLabel('Email', { exact: true }).fill(`x${aliceUser.email}`);
    await other.page.getByLabel('Username', { exact: true }).fill(aliceUser.username);
    await other.page.getByLabel('Password', { exact: true }).fill('long enough password');
    await other.page.getByRole('button', { name: 'Sign up', exact: true }).click();
    await other.page.getByRole('alert').filter({ hasText: /taken/i }).waitFor();
    await other.context.close();
  });

  step('signing out returns to the sign-in form, and a reload stays signed out', async () => {
    await signOut(alice.page);
    await alice.page.reload();
    await alice.page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
  });

  step('a wrong password is refused', async () => {
    await alice.page.getByLabel('Email', { exact: true }).fill(aliceUser.email);
    await alice.page.getByLabel('Password', { exact: true }).fill('not the password');
    await alice.page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await alice.page.getByRole('alert').waitFor();
    assert.equal(await alice.page.getByTestId('me').count(), 0);
  });

  step('signing in with email works', async () => {
    await signIn(alice.page, aliceUser);
  });

  step('changing the password signs out every other browser and keeps this tab signed in', async () => {
    const elsewhere = await newPerson(browser);
    await signIn(elsewhere.page, aliceUser);
    const page = alice.page;
    await page.getByRole('button', { name: 'Account', exact: true }).click();
    await page.getByRole('menuitem', { name: 'Change password', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Change password' });
    await dialog.waitFor();
    assert.equal(await page.getByLabel('Current password', { exact: true }).evaluate((el) => el === document.activeElement), true, 'focus starts in the first field');
    const fill = async (current, next, repeat = next) => {
      await dialog.getByLabel('Current password', { exact: true }).fill(current);
      await dialog.getByLabel('New password', { exact: true }).fill(next);
      await dialog.getByLabel('Repeat new password', { exact: true }).fill(repeat);
      await dialog.getByRole('button', { name: 'Change password', exact: true }).click();
    };
    const newPassword = `${aliceUser.password}-changed`;

    await fill(aliceUser.password, 'short');
    await dialog.getByRole('alert').filter({ hasText: 'Too weak: a password needs at least 8 characters.' }).waitFor();
    await fill(aliceUser.password, newPassword, `${newPassword}!`);
    await dialog.getByRole('alert').filter({ hasText: 'The two new passwords differ' }).waitFor();
    await fill('not my password', newPassword);
    await dialog.getByRole('alert').filter({ hasText: 'That is not your current password.' }).waitFor();
    await screenshots(page, 'change-password-desktop');
    await page.setViewportSize({ width: 375, height: 667 });
    const box = await dialog.boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= 375, `the dialog fits a 375 px screen: ${JSON.stringify(box)}`);
    await screenshots(page, 'change-password-phone');
    // Escape closes it; the menu opens it again, empty.
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Account', exact: true }).click();
    await screenshots(page, 'account-menu-phone');
    await page.getByRole('menuitem', { name: 'Change password', exact: true }).click();
    assert.equal(await dialog.getByLabel('Current password', { exact: true }).inputValue(), '');
    await page.setViewportSize({ width: 1280, height: 800 });
    // Another tab of this browser shares the cookie that the change replaces.
    const sameBrowser = await alice.context.newPage();
    await sameBrowser.goto('/');
    await sameBrowser.getByTestId('me').waitFor();

    await fill(aliceUser.password, newPassword);
    await page.getByTestId('notices').filter({ hasText: 'Password changed; other sessions were signed out.' }).waitFor();
    await dialog.waitFor({ state: 'detached' });
    // The other browser is bounced to the sign-in form by itself; this tab stays signed in,
    // across a reload too (it got a new session).
    await elsewhere.page.getByRole('button', { name: 'Sign in', exact: true }).waitFor({ timeout: 10_000 });
    // The other tab of this browser heard of the change and stays signed in (its sockets were
    // closed too, and it asked who it is before the new cookie came).
    for (let i = 0; i < 20; i++) {
      assert.equal(await sameBrowser.getByRole('button', { name: 'Sign in', exact: true }).count(), 0, 'the same browser\'s other tab is not signed out');
      await sameBrowser.waitForTimeout(100);
    }
    await sameBrowser.getByTestId('me').filter({ hasText: aliceUser.username }).waitFor();
    await sameBrowser.close();
    await page.reload();
    await page.getByTestId('me').filter({ hasText: aliceUser.username }).waitFor();

    // The old password no longer signs in; the new one does.
    await elsewhere.page.getByLabel('Email', { exact: true }).fill(aliceUser.email);
    await elsewhere.page.getByLabel('Password', { exact: true }).fill(aliceUser.password);
    await elsewhere.page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await elsewhere.page.getByRole('alert').filter({ hasText: 'Wrong email, username or password.' }).waitFor();
    aliceUser.password = newPassword;
    await signIn(elsewhere.page, aliceUser);
    assert.deepEqual([...alice.errors, ...elsewhere.errors], []);
    await elsewhere.context.close();
  });

  step('the people list shows the other user', async () => {
    await signUp(bob.page, bobUser);
    await openPeople(alice.page);
    const row = alice.page.getByTestId('person').and(alice.page.locator(`[data-username="${bobUser.username}"]`));
    await eventually(async () => assert.equal(await row.count(), 1), { what: `${bobUser.username} in the people list` });
    // Searching by prefix narrows the list.
    await alice.page.getByLabel('Search people').fill(bobUser.username.slice(0, -1));
    await eventually(
      async () => {
        const names = await alice.page.getByTestId('person').evaluateAll((els) => els.map((e) => e.getAttribute('data-username')));
        assert.deepEqual(names, [bobUser.username]);
      },
      { what: 'search result' },
    );
    await alice.page.getByLabel('Search people').fill('');
    await screenshots(alice.page, 'people');
  });

  step('after repeated wrong passwords, the form says how long to wait', async () => {
    const guesser = await newPerson(browser);
    await guesser.page.goto('/signin');
    // Five failures are free; after each further one the next attempt waits twice as long (1 s, 2 s, 4 s).
    const statuses = await guesser.page.evaluate(async (email) => {
      const attempt = () =>
        fetch('/api/auth/signin', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: 'not the password' }) });
      const out = [];
      for (let i = 0; i < 8; i++) {
        let res = await attempt();
        while (res.status === 429) {
          await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after')) * 1000 + 100));
          res = await attempt();
        }
        out.push(res.status);
      }
      return out;
    }, bobUser.email);
    assert.deepEqual(statuses, Array(8).fill(401));
    await guesser.page.getByLabel('Email', { exact: true }).fill(bobUser.email);
    await guesser.page.getByLabel('Password', { exact: true }).fill('not the password');
    const answer = guesser.page.waitForResponse((r) => r.url().endsWith('/api/auth/signin'));
    await guesser.page.getByRole('button', { name: 'Sign in', exact: true }).click();
    assert.equal((await answer).status(), 429);
    const wait = Number((await answer).headers()['retry-after']);
    assert.ok(wait > 1, `Retry-After ${wait}`);
    const alert = guesser.page.getByRole('alert');
    await alert.waitFor();
    assert.equal(await alert.innerText(), `Too many attempts. Try again in ${wait} seconds.`);
    await screenshots(guesser.page, 'signin-wait');
    await guesser.context.close();
  });
});
