// The admin's page: the first account is the admin, makes sign-up invitation-only, hands out an
// invitation link, and disables the account created with it, whose open tab is signed out; a
// password reset link lets someone who forgot their password in again, once, and one sent by
// mistake is revoked. Neither link's code stays in the address bar.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { credentials, eventually, launch, newPerson, scenario, screenshots, signIn, signUp } from './lib.mjs';

describe('admin', () => {
  let browser;
  let admin;
  let bob;
  let link;
  const adminUser = credentials('ada');
  const bobUser = credentials('bob');
  const step = scenario(it);

  before(async () => {
    browser = await launch();
    admin = await newPerson(browser);
    await admin.context.grantPermissions(['clipboard-read', 'clipboard-write']);
    bob = await newPerson(browser);
  });
  after(async () => {
    await browser?.close();
  });

  step('the first account is the admin and has the admin page', async () => {
    await signUp(admin.page, adminUser);
    await admin.page.getByRole('button', { name: 'Administration', exact: true }).click();
    await admin.page.getByRole('heading', { name: 'Administration' }).waitFor();
    assert.equal(new URL(admin.page.url()).pathname, '/admin');
    await admin.page.getByRole('radio', { name: /^Open/ }).waitFor();
    assert.equal(await admin.page.getByRole('radio', { name: /^Open/ }).isChecked(), true);
  });

  step('the admin makes sign-up invitation-only, and it stays so', async () => {
    await admin.page.getByRole('radio', { name: /^Invitation only/ }).check();
    await admin.page.reload();
    const invite = admin.page.getByRole('radio', { name: /^Invitation only/ });
    await invite.waitFor();
    await eventually(async () => assert.equal(await invite.isChecked(), true), { what: 'invitation-only after a reload' });
  });

  step('without an invitation nobody can sign up', async () => {
    const stranger = await newPerson(browser);
    const who = credentials('eve');
    await stranger.page.goto('/signup');
    await stranger.page.getByLabel('Email', { exact: true }).fill(who.email);
    await stranger.page.getByLabel('Username', { exact: true }).fill(who.username);
    await stranger.page.getByLabel('Password', { exact: true }).fill(who.password);
    await stranger.page.getByRole('button', { name: 'Sign up', exact: true }).click();
    await stranger.page.getByRole('alert').filter({ hasText: /invitation/i }).waitFor();
    assert.equal(await stranger.page.getByTestId('me').count(), 0);
    await stranger.context.close();
  });

  step('the admin creates an invitation and copies its link', async () => {
    await admin.page.getByRole('button', { name: 'Create invitation', exact: true }).click();
    const shown = admin.page.getByLabel('Invitation link', { exact: true });
    await shown.waitFor();
    link = await shown.inputValue();
    assert.match(link, /\/signup\?invite=[A-Za-z0-9_-]{22}$/);
    await admin.page.getByRole('button', { name: 'Copy link', exact: true }).click();
    await admin.page.getByRole('button', { name: 'Copied', exact: true }).waitFor();
    assert.equal(await admin.page.evaluate(() => navigator.clipboard.readText()), link);
    await screenshots(admin.page, 'admin');
  });

  step('a second person signs up with the invitation link', async () => {
    await bob.page.goto(link);
    const code = bob.page.getByLabel('Invite code', { exact: true });
    await code.waitFor();
    assert.equal(await code.inputValue(), new URL(link).searchParams.get('invite'));
    await eventually(async () => assert.equal(new URL(bob.page.url()).search, ''), { what: 'the code out of the address bar' });
    assert.equal(new URL(bob.page.url()).pathname, '/signup');
    await bob.page.getByLabel('Email', { exact: true }).fill(bobUser.email);
    await bob.page.getByLabel('Username', { exact: true }).fill(bobUser.username);
    await bob.page.getByLabel('Password', { exact: true }).fill(bobUser.password);
    await bob.page.getByRole('button', { name: 'Sign up', exact: true }).click();
    await bob.page.getByTestId('me').filter({ hasText: bobUser.username }).waitFor();
    assert.equal(await bob.page.getByRole('button', { name: 'Administration', exact: true }).count(), 0, 'a member has no admin page');
  });

  step('the admin revokes an invitation that went astray: its link signs nobody up', async () => {
    const page = admin.page;
    await page.getByRole('button', { name: 'Create invitation', exact: true }).click();
    const shown = page.getByLabel('Invitation link', { exact: true });
    const astray = await eventually(async () => {
      const value = await shown.inputValue();
      assert.notEqual(value, link);
      return value;
    }, { what: 'the new invitation shown' });
    const code = new URL(astray).searchParams.get('invite');
    const row = page.getByTestId('open-invite').filter({ hasText: `${code.slice(0, 4)}…` });
    await row.waitFor();
    await screenshots(page, 'admin-invites');
    await row.getByRole('button', { name: /^Revoke invitation/ }).click();
    await page.getByRole('dialog', { name: /^Revoke invitation/ }).getByRole('button', { name: 'Revoke', exact: true }).click();
    await eventually(async () => assert.equal(await row.count(), 0), { what: 'revoked invitation gone from the list' });
    const res = await page.request.post('/api/auth/signup', {
      data: { ...credentials('stray'), inviteCode: code },
      headers: { Origin: new URL(page.url()).origin },
    });
    assert.equal(res.status(), 403);
  });

  step('the new account shows up in the open accounts list', async () => {
    // No reload: the list follows sign-ups while it is open.
    const row = admin.page.getByTestId('account').and(admin.page.locator(`[data-username="${bobUser.username}"]`));
    await row.waitFor({ timeout: 15_000 });
  });

  step('the admin makes bob a second admin (after confirming), then a member again', async () => {
    const row = admin.page.getByTestId('account').and(admin.page.locator(`[data-username="${bobUser.username}"]`));
    await row.getByRole('button', { name: `Make ${bobUser.username} an admin`, exact: true }).click();
    const confirm = admin.page.getByRole('dialog', { name: `Make ${bobUser.username} an admin?` });
    await confirm.getByRole('button', { name: 'Make admin', exact: true }).click();
    await row.getByText('admin', { exact: true }).waitFor();
    await bob.page.reload();
    await bob.page.getByRole('button', { name: 'Administration', exact: true }).waitFor();

    await row.getByRole('button', { name: `Make ${bobUser.username} a member`, exact: true }).click();
    await eventually(async () => assert.equal(await row.getByText('admin', { exact: true }).count(), 0), { what: 'bob a member again' });
    await bob.page.reload();
    await bob.page.getByTestId('me').waitFor();
    assert.equal(await bob.page.getByRole('button', { name: 'Administration', exact: true }).count(), 0);
  });

  step('the admin disables the new account after confirming, and its open tab is told why it was signed out', async () => {
    const row = admin.page.getByTestId('account').and(admin.page.locator(`[data-username="${bobUser.username}"]`));
    await row.getByRole('button', { name: `Disable ${bobUser.username}`, exact: true }).click();
    const confirm = admin.page.getByRole('dialog', { name: `Disable ${bobUser.username}?` });
    await confirm.waitFor();
    assert.match(await confirm.innerText(), new RegExp(bobUser.email.replace(/[.]/g, '\\.')));
    await screenshots(admin.page, 'admin-disable-confirm');
    // Cancel changes nothing.
    await confirm.getByRole('button', { name: 'Cancel', exact: true }).click();
    await confirm.waitFor({ state: 'detached' });
    assert.equal(await row.getByText('disabled', { exact: true }).count(), 0);
    assert.equal(await bob.page.getByTestId('me').count(), 1);

    await row.getByRole('button', { name: `Disable ${bobUser.username}`, exact: true }).click();
    await confirm.getByRole('button', { name: 'Disable', exact: true }).click();
    await row.getByText('disabled', { exact: true }).waitFor();
    await bob.page.getByRole('button', { name: 'Sign in', exact: true }).waitFor({ timeout: 20_000 });
    assert.equal(await bob.page.getByTestId('me').count(), 0);
    const why = bob.page.getByTestId('session-ended');
    await why.waitFor();
    assert.match(await why.innerText(), /administrator .* disabled your account/);
    await screenshots(bob.page, 'signed-out-disabled');
    // And it cannot sign in again.
    await bob.page.getByLabel('Email', { exact: true }).fill(bobUser.email);
    await bob.page.getByLabel('Password', { exact: true }).fill(bobUser.password);
    await bob.page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await bob.page.getByRole('alert').filter({ hasText: 'This account is disabled.' }).waitFor();
  });

  step('the accounts list is fetched afresh when the page is opened again', async () => {
    const carol = await newPerson(browser);
    // Sign-up is invitation-only: the admin opens it again while away from the accounts list.
    await admin.page.getByRole('radio', { name: /^Open/ }).check();
    await admin.page.goto('/');
    await admin.page.getByTestId('me').waitFor();
    const carolUser = credentials('carol');
    await signUp(carol.page, carolUser);
    await carol.context.close();
    await admin.page.getByRole('button', { name: 'Administration', exact: true }).click();
    await admin.page.getByTestId('account').and(admin.page.locator(`[data-username="${carolUser.username}"]`)).waitFor();
  });

  step('someone who forgot their password gets a reset link from the admin: it works once and signs out their other devices', async () => {
    const dan = await newPerson(browser);
    const danUser = credentials('dan');
    await signUp(dan.page, danUser);
    const row = admin.page.getByTestId('account').and(admin.page.locator(`[data-username="${danUser.username}"]`));
    await row.waitFor({ timeout: 15_000 });
    await row.getByRole('button', { name: `Password reset link for ${danUser.username}`, exact: true }).click();
    const dialog = admin.page.getByRole('dialog', { name: `Password reset link for ${danUser.username}` });
    const shown = dialog.getByLabel('Password reset link', { exact: true });
    await shown.waitFor();
    const resetLink = await shown.inputValue();
    assert.match(resetLink, /\/reset-password#[A-Za-z0-9_-]{22}$/);
    await screenshots(admin.page, 'admin-reset-link');
    await dialog.getByRole('button', { name: 'Done', exact: true }).click();
    await dialog.waitFor({ state: 'detached' });

    // On another device, signed out.
    const phone = await newPerson(browser);
    await phone.page.goto(resetLink);
    await phone.page.getByRole('heading', { name: 'Set a new password' }).waitFor();
    await phone.page.getByLabel('New password', { exact: true }).fill('a new one I will keep');
    await phone.page.getByLabel('Repeat new password', { exact: true }).fill('a new one I wont keep');
    await phone.page.getByRole('button', { name: 'Set password and sign in', exact: true }).click();
    await phone.page.getByRole('alert').filter({ hasText: 'differ' }).waitFor();
    await phone.page.getByLabel('Repeat new password', { exact: true }).fill('a new one I will keep');
    await phone.page.getByRole('button', { name: 'Set password and sign in', exact: true }).click();
    await phone.page.getByTestId('me').filter({ hasText: danUser.username }).waitFor({ timeout: 20_000 });
    assert.equal(new URL(phone.page.url()).pathname, '/');

    // The tab that was signed in before is signed out.
    await dan.page.getByRole('button', { name: 'Sign in', exact: true }).waitFor({ timeout: 20_000 });
    assert.equal(await dan.page.getByTestId('me').count(), 0);
    // The link worked once.
    const late = await newPerson(browser);
    await late.page.goto(resetLink);
    await late.page.getByLabel('New password', { exact: true }).fill('someone elses idea');
    await late.page.getByLabel('Repeat new password', { exact: true }).fill('someone elses idea');
    await late.page.getByRole('button', { name: 'Set password and sign in', exact: true }).click();
    await late.page.getByRole('alert').filter({ hasText: /does not work/ }).waitFor();
    assert.equal(await late.page.getByTestId('me').count(), 0);
    // The old password no longer works, the new one does.
    await dan.page.getByLabel('Email', { exact: true }).fill(danUser.email);
    await dan.page.getByLabel('Password', { exact: true }).fill(danUser.password);
    await dan.page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await dan.page.getByRole('alert').filter({ hasText: 'Wrong email, username or password.' }).waitFor();
    await dan.page.getByLabel('Password', { exact: true }).fill('a new one I will keep');
    await dan.page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await dan.page.getByTestId('me').filter({ hasText: danUser.username }).waitFor();
    for (const p of [dan, phone, late]) await p.context.close();
  });

  step('a reset link leaves the address bar once opened; one sent by mistake is revoked and no longer works', async () => {
    const erin = await newPerson(browser);
    const erinUser = credentials('erin');
    await signUp(erin.page, erinUser);
    await erin.context.close();
    const row = admin.page.getByTestId('account').and(admin.page.locator(`[data-username="${erinUser.username}"]`));
    await row.waitFor({ timeout: 15_000 });
    const makeLink = row.getByRole('button', { name: `Password reset link for ${erinUser.username}`, exact: true });
    await makeLink.click();
    const dialog = admin.page.getByRole('dialog', { name: `Password reset link for ${erinUser.username}` });
    const resetLink = await dialog.getByLabel('Password reset link', { exact: true }).inputValue();
    await dialog.getByRole('button', { name: 'Done', exact: true }).click();
    await row.getByTestId('live-reset-link').waitFor();

    // A second click asks first: the link may already be in erin's hands. Cancel keeps it.
    await makeLink.click();
    const replace = admin.page.getByRole('dialog', { name: `Replace the reset link for ${erinUser.username}?` });
    await replace.getByText(/A new one stops it working/).waitFor();
    await screenshots(admin.page, 'admin-reset-replace');
    await replace.getByRole('button', { name: 'Cancel', exact: true }).click();
    await replace.waitFor({ state: 'detached' });
    assert.equal(await dialog.count(), 0, 'no new link made');

    // The reset page keeps the code in memory only: not in the address bar, gone on reload.
    const opened = await newPerson(browser);
    await opened.page.goto(resetLink);
    await opened.page.getByLabel('New password', { exact: true }).waitFor();
    await eventually(async () => assert.equal(new URL(opened.page.url()).hash, ''), { what: 'the code out of the address bar' });
    assert.equal(new URL(opened.page.url()).pathname, '/reset-password');
    await opened.page.reload();
    await opened.page.getByRole('alert').filter({ hasText: 'Open the link your admin sent you again' }).waitFor();
    assert.equal(await opened.page.getByLabel('New password', { exact: true }).count(), 0);

    await row.getByRole('button', { name: `Revoke the reset link for ${erinUser.username}`, exact: true }).click();
    const revoke = admin.page.getByRole('dialog', { name: `Revoke the reset link for ${erinUser.username}?` });
    await revoke.getByRole('button', { name: 'Revoke link', exact: true }).click();
    await eventually(async () => assert.equal(await row.getByTestId('live-reset-link').count(), 0), { what: 'no live link shown' });
    await opened.page.goto(resetLink);
    await opened.page.getByLabel('New password', { exact: true }).fill('someone elses idea');
    await opened.page.getByLabel('Repeat new password', { exact: true }).fill('someone elses idea');
    await opened.page.getByRole('button', { name: 'Set password and sign in', exact: true }).click();
    await opened.page.getByRole('alert').filter({ hasText: /does not work/ }).waitFor();
    assert.equal(await opened.page.getByTestId('me').count(), 0);
    await signIn(opened.page, erinUser); // the password is what it was
    await opened.context.close();
  });
});
