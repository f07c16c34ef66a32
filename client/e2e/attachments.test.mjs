// Gina and Hal: Gina attaches a picture with the Attach file button (watching its upload
// progress on a slow connection), drops a PDF on the chat, pastes a screenshot, is told a file
// is too large before anything is uploaded, and sends; Hal sees the thumbnails, opens one in the
// lightbox, and downloads the PDF.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import zlib from 'node:zlib';
import { bubble, credentials, eventually, launch, newPerson, openChatWith, scenario, screenshots, signUp } from './lib.mjs';

/** A real PNG of `width` × `height` pixels (a gradient, so it does not compress to nothing). */
function png(width, height) {
  const chunk = (type, data) => {
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    out.write(type, 4, 'ascii');
    data.copy(out, 8);
    out.writeUInt32BE(zlib.crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    for (let x = 0; x < width; x++) rows.set([(x * 7 + y) % 256, (y * 5) % 256, (x * y) % 256], row + 1 + x * 3);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', zlib.deflateSync(rows, { level: 1 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const PDF = Buffer.from('%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n');
const PHOTO = png(1600, 1200);

describe('attachments', () => {
  let browser;
  let gina;
  let hal;
  const ginaUser = credentials('gina');
  const halUser = credentials('hal');
  const step = scenario(it);

  const uploads = (page) => page.getByRole('list', { name: 'Files to send' }).getByTestId('upload');

  before(async () => {
    browser = await launch();
    gina = await newPerson(browser);
    hal = await newPerson(browser);
  });
  after(async () => {
    await browser?.close();
  });

  step('gina and hal open a chat', async () => {
    await signUp(gina.page, ginaUser);
    await signUp(hal.page, halUser);
    await openChatWith(gina.page, halUser.username);
  });

  step('the Attach file button uploads a picture with a progress bar', async () => {
    // A slow uplink (about 1 Mbit/s), so the upload is seen going.
    const cdp = await gina.context.newCDPSession(gina.page);
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: 128 * 1024 });
    const chooser = gina.page.waitForEvent('filechooser');
    await gina.page.getByRole('button', { name: 'Attach file', exact: true }).click();
    await (await chooser).setFiles({ name: 'sunset.png', mimeType: 'image/png', buffer: PHOTO });
    const bar = gina.page.getByRole('progressbar', { name: 'Uploading sunset.png' });
    await bar.waitFor();
    await eventually(async () => {
      const now = Number(await bar.getAttribute('aria-valuenow'));
      assert.ok(now > 0 && now < 100, `progress ${now}`);
    }, { what: 'progress between 0 and 100' });
    await screenshots(gina.page, 'attachments-uploading');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await uploads(gina.page).and(gina.page.locator('[data-status="done"]')).waitFor({ timeout: 60_000 });
  });

  step('a PDF dropped on the chat and a pasted screenshot join it; a file over the limit is refused before uploading', async () => {
    const chat = gina.page.getByRole('region', { name: `Chat with ${halUser.username}` });
    const drop = await gina.page.evaluateHandle((bytes) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(bytes)], 'report.pdf', { type: 'application/pdf' }));
      return dt;
    }, [...PDF]);
    await chat.dispatchEvent('dragenter', { dataTransfer: drop });
    await gina.page.getByTestId('drop-zone').waitFor();
    await chat.dispatchEvent('drop', { dataTransfer: drop });
    await gina.page.getByTestId('drop-zone').waitFor({ state: 'detached' });

    await gina.page.getByLabel('Message', { exact: true }).evaluate((box, bytes) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(bytes)], 'image.png', { type: 'image/png' }));
      box.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
    }, [...png(300, 200)]);

    const requests = [];
    gina.page.on('request', (r) => r.url().endsWith('/api/attachments') && r.method() === 'POST' && requests.push(r));
    const chooser = gina.page.waitForEvent('filechooser');
    await gina.page.getByRole('button', { name: 'Attach file', exact: true }).click();
    await (await chooser).setFiles({ name: 'movie.mkv', mimeType: 'video/x-matroska', buffer: Buffer.alloc(25 * 1024 * 1024 + 1) });
    const refused = uploads(gina.page).filter({ hasText: 'movie.mkv' });
    await refused.and(gina.page.locator('[data-status="failed"]')).waitFor();
    assert.equal(await refused.getByRole('alert').innerText(), 'Larger than the limit of 25 MB.');
    assert.equal(requests.length, 0, 'nothing was sent for it');
    await refused.getByRole('button', { name: 'Remove movie.mkv' }).click();

    await eventually(async () => assert.equal(await uploads(gina.page).and(gina.page.locator('[data-status="done"]')).count(), 3), {
      what: 'three uploads done',
    });
    await screenshots(gina.page, 'attachments-composer');
    await gina.page.getByLabel('Message', { exact: true }).fill('Photos and the report');
    await gina.page.getByRole('button', { name: 'Send', exact: true }).click();
    await bubble(gina.page, 'Photos and the report').and(gina.page.locator('[data-status="sent"], [data-status="delivered"], [data-status="read"]')).waitFor();
    assert.equal(await uploads(gina.page).count(), 0, 'the composer is empty again');
  });

  step('hal sees the thumbnails and the file card, opens the picture, and downloads the PDF', async () => {
    await hal.page.locator(`[data-testid="conversation"][data-peer="${ginaUser.username}"]`).click();
    const row = bubble(hal.page, 'Photos and the report');
    await row.waitFor();
    const thumbnails = row.getByTestId('attachment-thumbnail');
    await eventually(async () => {
      assert.equal(await thumbnails.count(), 2);
      const sizes = await thumbnails.evaluateAll((imgs) => imgs.map((i) => [i.complete, i.naturalWidth, i.naturalHeight]));
      assert.deepEqual(sizes, [
        [true, 320, 240],
        [true, 300, 200],
      ]);
    }, { what: 'the thumbnails loaded' });
    await screenshots(hal.page, 'attachments-timeline');

    await row.getByRole('button', { name: 'Open picture sunset.png' }).click();
    const lightbox = hal.page.getByRole('dialog', { name: 'sunset.png' });
    await lightbox.waitFor();
    const full = lightbox.getByRole('img', { name: 'sunset.png' });
    await eventually(async () => assert.equal(await full.evaluate((i) => i.naturalWidth), 1600), { what: 'the full picture' });
    await screenshots(hal.page, 'attachments-lightbox');
    await hal.page.keyboard.press('Escape');
    await lightbox.waitFor({ state: 'detached' });

    const card = row.getByTestId('attachment-file');
    assert.equal(await card.getAttribute('aria-label'), `Download report.pdf, ${PDF.length} bytes`);
    const download = hal.page.waitForEvent('download');
    await card.click();
    const file = await download;
    assert.equal(file.suggestedFilename(), 'report.pdf');
    assert.deepEqual(await readFile(await file.path()), PDF);
  });

  step('no dialog opened and no page error happened', async () => {
    for (const who of [gina, hal]) {
      assert.deepEqual(who.dialogs, []);
      assert.deepEqual(who.errors, []);
    }
  });
});
