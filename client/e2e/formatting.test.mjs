// Gina and Hal: formatted messages (bold, italic, strikethrough, code, code blocks, quotes,
// links) as the reader sees them; previews without the markers (chat list, bell, reply quote,
// search); an edit re-formats, a delete hides; a long code block on a phone scrolls inside its
// bubble instead of widening the page; the direction of a message goes by its text, not by a
// quote before it. Faces, paths and lone markers stay as written, links go where they show,
// and a message of almost-links does not freeze the page.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  PHONE,
  bubble,
  chatRow,
  credentials,
  eventually,
  launch,
  messageActions,
  messages,
  newPerson,
  openChatWith,
  openChats,
  scenario,
  screenshotsBothSizes,
  searchBox,
  send,
  signUp,
} from './lib.mjs';

const CODE = 'const snake_case_name = 2*3*4; // *not bold* https://not.linked.example';
const FORMATTED = [
  '*Deploy* is _done_, ~maybe~ `v2.1`: www.example.com/status or https://example.com/a_b_c',
  '> the plan said **Friday**',
  '```js',
  CODE,
  '    indented',
  '```',
  'snake_case_names, file_name.txt and 2*3*4 stay as written',
].join('\n');
/** The markers of FORMATTED's text (the code block keeps its own asterisks: they are code). */
const MARKERS = /\*Deploy\*|_done_|~maybe~|`v2\.1`|\*\*Friday|```|^> /m;
const LONG_LINE = `${'x'.repeat(40)} = "${'very_long_value_'.repeat(12)}";`;

describe('formatting', () => {
  let browser;
  let gina;
  let hal;
  const ginaUser = credentials('gina');
  const halUser = credentials('hal');
  const step = scenario(it);

  const composer = (page) => page.getByLabel('Message', { exact: true });
  /** The message itself, not a reply quoting it. */
  const original = (page, text) => bubble(page, text).filter({ hasNot: page.getByTestId('reply-quote') });

  before(async () => {
    browser = await launch();
    gina = await newPerson(browser);
    hal = await newPerson(browser);
  });
  after(async () => {
    await browser?.close();
  });

  step('gina writes to hal; the composer hints at the syntax', async () => {
    await signUp(gina.page, ginaUser);
    await signUp(hal.page, halUser);
    await openChatWith(gina.page, halUser.username);
    assert.match(await composer(gina.page).getAttribute('title'), /\*bold\* _italic_ ~strike~ `code`/);
    await send(gina.page, 'hello');
    await openChats(hal.page);
    await chatRow(hal.page, ginaUser.username).waitFor();
  });

  step('previews in the chat list and the bell show the text without the markers', async () => {
    await send(gina.page, FORMATTED);
    const row = chatRow(hal.page, ginaUser.username);
    await row.filter({ hasText: 'Deploy is done, maybe v2.1: www.example.com/status' }).waitFor();
    assert.doesNotMatch(await row.innerText(), MARKERS);
    await hal.page.getByTestId('bell-count').filter({ hasText: /^2$/ }).waitFor({ timeout: 15_000 });
    await hal.page.getByTestId('bell').click();
    const note = hal.page.getByRole('dialog', { name: 'Notifications' }).getByTestId('notification').first();
    await note.filter({ hasText: 'Deploy is done' }).waitFor();
    assert.doesNotMatch(await note.innerText(), MARKERS);
    await hal.page.keyboard.press('Escape');
  });

  step('hal sees the formats, the links and the code block as written', async () => {
    await chatRow(hal.page, ginaUser.username).click();
    const message = original(hal.page, 'Deploy');
    await message.waitFor();
    assert.equal(await message.locator('strong').first().innerText(), 'Deploy');
    assert.equal(await message.locator('em').innerText(), 'done');
    assert.equal(await message.locator('s').innerText(), 'maybe');
    assert.equal(await message.locator('code').first().innerText(), 'v2.1');

    const links = message.getByRole('link');
    assert.deepEqual(await links.evaluateAll((as) => as.map((a) => [a.textContent, a.href, a.target, a.rel])), [
      ['www.example.com/status', 'https://www.example.com/status', '_blank', 'noopener noreferrer'],
      ['https://example.com/a_b_c', 'https://example.com/a_b_c', '_blank', 'noopener noreferrer'],
    ]);

    const quote = message.locator('blockquote');
    assert.equal(await quote.innerText(), 'the plan said Friday');
    assert.equal(await quote.locator('strong').innerText(), 'Friday');

    const code = message.locator('pre');
    assert.equal(await code.innerText(), `${CODE}\n    indented`);
    assert.equal(await code.locator('a, strong, em').count(), 0);
    assert.equal(await code.evaluate((pre) => getComputedStyle(pre).fontFamily.includes('mono')), true);

    assert.ok((await message.innerText()).includes('snake_case_names, file_name.txt and 2*3*4 stay as written'));
  });

  step('a reply quotes the message without its markers', async () => {
    const menu = await messageActions(hal.page, original(hal.page, 'Deploy'));
    await menu.getByRole('menuitem', { name: 'Reply' }).click();
    await hal.page.getByTestId('composer-mode').filter({ hasText: 'Deploy is done, maybe v2.1' }).waitFor();
    await composer(hal.page).fill('_great_ news');
    await composer(hal.page).press('Enter');
    const reply = bubble(gina.page, 'great news');
    await reply.waitFor();
    const quote = await reply.getByTestId('reply-quote').innerText();
    assert.ok(quote.includes('Deploy is done, maybe v2.1'), quote);
    assert.doesNotMatch(quote, MARKERS);
    assert.equal(await reply.locator('em').innerText(), 'great');
  });

  step('an edit re-renders the formats for both', async () => {
    const menu = await messageActions(gina.page, original(gina.page, 'Deploy'));
    await menu.getByRole('menuitem', { name: 'Edit' }).click();
    await eventually(async () => assert.equal(await composer(gina.page).inputValue(), FORMATTED));
    await composer(gina.page).fill('**Shipped** on _Friday_');
    await composer(gina.page).press('Enter');
    for (const { page } of [gina, hal]) {
      const edited = original(page, 'Shipped on Friday');
      await edited.and(page.locator('[data-edited="true"]')).waitFor();
      assert.equal(await edited.locator('strong').innerText(), 'Shipped');
      assert.equal(await edited.locator('em').innerText(), 'Friday');
      assert.equal(await edited.locator('pre, blockquote').count(), 0);
    }
  });

  step('a formatted right-to-left message runs right to left, its quote in its own direction', async () => {
    await send(gina.page, '**שלום** _עולם_\n> English quote');
    const message = original(hal.page, 'English quote');
    await message.waitFor();
    assert.equal(await message.locator('strong').innerText(), 'שלום');
    assert.equal(await message.locator('strong').evaluate((el) => getComputedStyle(el.parentElement.parentElement).direction), 'rtl');
    assert.equal(await message.locator('blockquote').evaluate((el) => getComputedStyle(el).direction), 'ltr');
  });

  step('search highlights the words inside formatted text, without the markers', async () => {
    await searchBox(hal.page).fill('shipped');
    const result = hal.page.getByRole('region', { name: 'Messages found' }).getByTestId('search-result').first();
    await result.filter({ hasText: 'Shipped on Friday' }).waitFor();
    assert.deepEqual(await result.locator('mark').allInnerTexts(), ['Shipped']);
    assert.doesNotMatch(await result.innerText(), /\*\*|_Friday_/);
    await searchBox(hal.page).fill('');
  });

  step('a long code block and a long word stay inside the bubble on a phone', async () => {
    await send(gina.page, `\`\`\`\n${LONG_LINE}\n\`\`\`\nand an unbroken ${'word'.repeat(30)} too`);
    const message = original(hal.page, 'an unbroken');
    await message.waitFor();
    await hal.page.setViewportSize({ width: 375, height: PHONE.height });
    await eventually(async () => {
      const layout = await message.evaluate((row) => {
        const pre = row.querySelector('pre');
        const bubble = pre.parentElement.parentElement;
        return {
          page: document.documentElement.scrollWidth,
          bubbleRight: bubble.getBoundingClientRect().right,
          // Wider than its box when something (a code line, a long word) spills out of it.
          bubbleContent: bubble.scrollWidth - bubble.clientWidth,
          codeScrolls: pre.scrollWidth > pre.clientWidth && getComputedStyle(pre).overflowX === 'auto',
        };
      });
      assert.ok(layout.page <= 375, `page ${layout.page} px wide`);
      assert.ok(layout.bubbleRight <= 375, `bubble ends at ${layout.bubbleRight}`);
      assert.equal(layout.bubbleContent, 0, 'nothing spills out of the bubble');
      assert.ok(layout.codeScrolls, 'the code block scrolls sideways');
    }, { what: 'narrow layout' });
    await hal.page.setViewportSize({ width: 1280, height: 800 });
    await send(gina.page, FORMATTED);
    await original(hal.page, 'Deploy').waitFor();
    // And on my own (accent) bubble.
    await send(hal.page, '> _quoted_ line\n`code` at www.example.com\n```\nblock(of, code)\n```');
    await original(hal.page, 'block(of, code)').waitFor();
    await screenshotsBothSizes(hal.page, 'formatting', async () => {
      await original(hal.page, 'block(of, code)').waitFor();
    });
  });

  step('a deleted formatted message shows as before', async () => {
    const menu = await messageActions(gina.page, original(gina.page, 'Shipped on Friday'));
    await menu.getByRole('menuitem', { name: 'Delete' }).click();
    await gina.page.getByRole('dialog', { name: 'Delete message?' }).getByRole('button', { name: 'Delete', exact: true }).click();
    for (const { page } of [gina, hal]) {
      await eventually(async () => assert.equal(await original(page, 'Shipped on Friday').count(), 0), { what: 'text gone' });
      const deleted = page.locator('[data-testid="message"][data-deleted="true"]').filter({ hasText: 'Message deleted' });
      await deleted.waitFor();
      assert.equal(await deleted.locator('strong, em').count(), 0);
    }
  });

  step('a quote first does not decide the direction: the text after it does, as the browser sees it', async () => {
    /** The direction of the text box, of its quote, and where the time is (on the last line, or below it). */
    const layout = (message) =>
      message.locator('blockquote').evaluate((quote) => {
        const time = quote.closest('[data-testid="message"]').querySelectorAll('time');
        return [getComputedStyle(quote.parentElement).direction, getComputedStyle(quote).direction, getComputedStyle(time[time.length - 1].parentElement).position];
      });
    // The code said left to right while the browser laid it out right to left.
    await send(gina.page, '> hello there\nשלום לך');
    const hebrew = original(hal.page, 'שלום לך');
    await hebrew.waitFor();
    assert.deepEqual(await layout(hebrew), ['rtl', 'ltr', 'static']);
    // The code made the whole bubble right to left, showing the English reply as "?ok".
    await send(gina.page, '> שלום\nok, see you then?');
    const english = original(hal.page, 'ok, see you then?');
    await english.waitFor();
    assert.deepEqual(await layout(english), ['ltr', 'rtl', 'absolute']);
    // Code runs left to right, even with a right-to-left comment first.
    await send(gina.page, '```\n// הערה\nrun(1)\n```');
    const code = original(hal.page, 'run(1)');
    await code.waitFor();
    assert.equal(await code.locator('pre').evaluate((pre) => getComputedStyle(pre).direction), 'ltr');
    // The bar of a right-to-left quote is on its right, where it starts.
    assert.equal(await english.locator('blockquote').evaluate((q) => getComputedStyle(q).borderRightWidth), '3px');
  });

  step('faces, paths, globs and lone markers show as written', async () => {
    const text = ';_; so sad ;_; *_* (*^_^*) :*)\nls src/*.ts test/*.ts, cp *.txt backup/* and ~/a/b~\nLIKE \'%_a_%\'\n>\n```';
    await send(gina.page, text);
    const message = original(hal.page, 'so sad');
    await message.waitFor();
    assert.equal(await message.locator('strong, em, s, pre, blockquote').count(), 0);
    assert.ok((await message.innerText()).includes(text), await message.innerText());
    // A lone ">" was an empty bubble.
    await send(gina.page, '>');
    await eventually(async () =>
      assert.equal(await messages(hal.page).last().locator('div[dir]').first().evaluate((body) => body.firstElementChild?.textContent), '>'),
    );
  });

  step('links go where they show, and their underscores stay in them', async () => {
    const python = 'https://docs.python.org/3/reference/datamodel.html#object.__init__';
    await send(gina.page, `www.google.com@evil.com and www.paypal.com。attacker。com, Docs:https://example.com/docs and ${python}`);
    const message = original(hal.page, 'attacker');
    await message.waitFor();
    assert.deepEqual(await message.getByRole('link').evaluateAll((as) => as.map((a) => [a.textContent, a.href])), [
      ['www.paypal.com', 'https://www.paypal.com/'],
      ['https://example.com/docs', 'https://example.com/docs'],
      [python, python],
    ]);
  });

  step('a long message of almost-links shows at once', async () => {
    // It took 13 s to parse, on every render.
    const text = '_www.^'.repeat(333) + ')'.repeat(2000);
    const started = Date.now();
    await send(gina.page, text);
    await original(hal.page, '_www.^_www.^').waitFor({ timeout: 5_000 });
    assert.ok(Date.now() - started < 5_000);
    assert.equal(await original(hal.page, '_www.^_www.^').getByRole('link').count(), 0);
  });

  step('***bold italic*** is both', async () => {
    await send(gina.page, 'that was ***really*** good');
    const message = original(hal.page, 'that was really good');
    await message.waitFor();
    assert.equal(await message.locator('strong > em').innerText(), 'really');
  });

  step('no script errors on either page', async () => {
    assert.deepEqual(gina.errors, []);
    assert.deepEqual(hal.errors, []);
    assert.deepEqual(gina.dialogs, []);
    assert.deepEqual(hal.dialogs, []);
  });
});
