// Shared helpers of the end-to-end tests: the browser, users, waiting, screenshots.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const clientDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const artifactsDir = path.join(clientDir, 'e2e-artifacts');

/** The server under test; set by run.mjs. */
export function baseURL() {
  const url = process.env.GOCHAT_E2E_URL;
  if (!url) throw new Error('GOCHAT_E2E_URL is not set: run the tests through e2e/run.mjs');
  return url;
}

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
    headless: true,
  });
}

/**
 * A signed-out tab of its own browser context (own cookies), that records dialogs (none may
 * ever open: a message must not run script), page errors and Content-Security-Policy violations.
 */
export async function newPerson(browser, { viewport = { width: 1280, height: 800 } } = {}) {
  const context = await browser.newContext({ baseURL: baseURL(), viewport });
  const page = await context.newPage();
  const dialogs = [];
  const errors = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  // Anything the Content-Security-Policy blocks is an error too: the client must live within it.
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) errors.push(`CSP: ${m.text()}`);
  });
  return { context, page, dialogs, errors };
}

let counter = 0;
/** Fresh credentials: names stay unique across runs against the same server. */
export function credentials(prefix) {
  const tag = `${Date.now().toString(36)}${(counter++).toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
  const username = `${prefix}_${tag}`.slice(0, 32);
  return { username, email: `${username}@example.test`, password: `pw-${tag}-secret` };
}

export async function signUp(page, user) {
  await page.goto('/signup');
  await page.getByLabel('Email', { exact: true }).fill(user.email);
  await page.getByLabel('Username', { exact: true }).fill(user.username);
  await page.getByLabel('Password', { exact: true }).fill(user.password);
  await page.getByRole('button', { name: 'Sign up', exact: true }).click();
  await page.getByTestId('me').filter({ hasText: user.username }).waitFor();
}

export async function signIn(page, user) {
  await page.goto('/signin');
  await page.getByLabel('Email', { exact: true }).fill(user.email);
  await page.getByLabel('Password', { exact: true }).fill(user.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByTestId('me').filter({ hasText: user.username }).waitFor();
}

/** Signs out from the account menu. */
export async function signOut(page) {
  await page.getByRole('button', { name: 'Account', exact: true }).click();
  await page.getByRole('menuitem', { name: 'Sign out', exact: true }).click();
  await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
}

/** Retries `check` (which throws while not yet true) until it passes or `timeout` ms pass. */
export async function eventually(check, { timeout = 10_000, interval = 100, what = 'condition' } = {}) {
  const start = Date.now();
  let last;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      last = e;
    }
    if (Date.now() - start > timeout) {
      const err = new Error(`timed out after ${timeout} ms waiting for ${what}: ${last?.message ?? last}`);
      err.cause = last;
      throw err;
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

/** Saves `<name>-light.png` and `<name>-dark.png` of the page as it is. */
export async function screenshots(page, name) {
  await mkdir(artifactsDir, { recursive: true });
  const saved = [];
  for (const colorScheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme });
    const file = path.join(artifactsDir, `${name}-${colorScheme}.png`);
    await page.screenshot({ path: file });
    saved.push(file);
  }
  await page.emulateMedia({ colorScheme: 'light' });
  return saved;
}

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 780 };

/**
 * Saves `<name>-desktop-{light,dark}.png` and `<name>-phone-{light,dark}.png`. `onPhone` may
 * bring the view back on the narrow screen (a phone shows one pane at a time); the desktop size
 * is restored afterwards.
 */
export async function screenshotsBothSizes(page, name, onPhone = async () => {}) {
  const saved = [];
  await page.setViewportSize(DESKTOP);
  saved.push(...(await screenshots(page, `${name}-desktop`)));
  await page.setViewportSize(PHONE);
  await onPhone();
  saved.push(...(await screenshots(page, `${name}-phone`)));
  await page.setViewportSize(DESKTOP);
  return saved;
}

/** The seqs of the `read` frames `page` sends on its chat socket, as they go (the array fills in). */
export function readsSentBy(page) {
  const reads = [];
  page.on('websocket', (ws) => {
    if (!ws.url().endsWith('/ws/chat')) return;
    ws.on('framesent', ({ payload }) => {
      const frame = JSON.parse(String(payload));
      if (frame.type === 'read') reads.push(frame.seq);
    });
  });
  return reads;
}

/** The rows of the open chat's message list (rendered ones: the list is virtualized). */
export function messages(page) {
  return page.getByRole('log', { name: 'Messages' }).getByTestId('message');
}

export async function openPeople(page) {
  await page.getByRole('tab', { name: 'People' }).click();
}

/** Opens (or starts) the direct chat with `username` from the People tab. */
export async function openChatWith(page, username) {
  await openPeople(page);
  await page.getByLabel('Search people').fill(username);
  await page.locator(`[data-testid="person"][data-username="${username}"]`).click();
  await page.getByTestId('chat-title').filter({ hasText: username }).waitFor();
}

/** The sidebar's search box, on the Chats tab: it finds chats, people and messages. */
export function searchBox(page) {
  return page.getByRole('searchbox', { name: 'Search chats, people and messages', exact: true });
}

export async function openChats(page) {
  await page.getByRole('tab', { name: /^Chats/ }).click();
}

/** A row of the chat list, by the conversation's name (peer or group title). */
export function chatRow(page, title) {
  return page.locator(`[data-testid="conversation"][data-title="${title}"]`);
}

/** A message bubble row of the open chat containing `text`. */
export function bubble(page, text) {
  return messages(page).filter({ hasText: text });
}

/** Opens the "Message actions" menu of a message (hovering first, as a mouse user does). */
export async function messageActions(page, row) {
  await row.hover();
  await row.getByRole('button', { name: 'Message actions' }).click();
  return page.getByRole('menu', { name: 'Message actions' });
}

/** Sends `text` from the open chat's composer. */
export async function send(page, text) {
  const box = page.getByLabel('Message', { exact: true });
  await box.fill(text);
  await page.getByRole('button', { name: 'Send', exact: true }).click();
}

/**
 * Steps of one scenario run in order; once one fails, the rest are skipped (they build on it)
 * instead of failing with confusing follow-on errors.
 */
export function scenario(t) {
  let broken = null;
  return (name, fn) =>
    t(name, async (ctx) => {
      if (broken) return ctx.skip(`after failed step: ${broken}`);
      try {
        await fn(ctx);
      } catch (e) {
        broken = name;
        throw e;
      }
    });
}
