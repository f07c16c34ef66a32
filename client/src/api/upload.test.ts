import { describe, expect, it } from 'vitest';
import { FakeXhr } from '../test/fakeXhr';
import { formatSize, uploadFile, UploadError } from './upload';

const file = () => new Blob(['x'.repeat(1000)], { type: 'application/pdf' });
const attachment = { id: 'a1', name: 'report.pdf', contentType: 'application/pdf', size: 1000 };

describe('uploadFile', () => {
  it('posts the file as the multipart part `file`, reports progress, and resolves with the stored attachment', async () => {
    const progress: number[] = [];
    const xhr = new FakeXhr();
    const upload = uploadFile(file(), 'report.pdf', (p) => progress.push(p), () => xhr);
    expect(xhr.opened).toEqual(['POST', '/api/attachments']);
    const sent = xhr.body!.get('file') as File;
    expect(sent.name).toBe('report.pdf');
    expect(sent.size).toBe(1000);
    xhr.progress(250, 1000);
    xhr.progress(1000, 1000);
    xhr.answer(201, { attachment });
    await expect(upload.done).resolves.toEqual(attachment);
    expect(progress).toEqual([0.25, 1, 1]);
  });

  it("rejects with the server's own words when it refuses", async () => {
    const xhr = new FakeXhr();
    const upload = uploadFile(file(), 'big.bin', () => {}, () => xhr);
    xhr.answer(413, { error: { code: 'payload_too_large', message: 'the file is larger than the limit of 25 MiB' } });
    const error = await upload.done.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UploadError);
    expect(error).toMatchObject({ code: 'payload_too_large', message: 'the file is larger than the limit of 25 MiB' });
  });

  it('says so when the connection drops or the user cancels', async () => {
    const dropped = new FakeXhr();
    const a = uploadFile(file(), 'a', () => {}, () => dropped);
    dropped.fail();
    await expect(a.done).rejects.toMatchObject({ code: 'network' });

    const cancelled = new FakeXhr();
    const b = uploadFile(file(), 'b', () => {}, () => cancelled);
    b.abort();
    await expect(b.done).rejects.toMatchObject({ code: 'aborted' });
  });
});

describe('formatSize', () => {
  it('reads as file pickers show sizes', () => {
    expect(formatSize(12)).toBe('12 bytes');
    expect(formatSize(1536)).toBe('1.5 KB');
    expect(formatSize(25 * 1024 * 1024)).toBe('25 MB');
    expect(formatSize(2.45 * 1024 * 1024)).toBe('2.5 MB');
    expect(formatSize(1024 ** 3)).toBe('1 GB');
  });
});
