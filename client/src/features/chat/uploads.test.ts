import { beforeEach, describe, expect, it } from 'vitest';
import { api } from '../../api/http';
import type { AttachmentLimits } from '../../api/types';
import { sendRequested } from '../../sockets/actions';
import { FakeXhr } from '../../test/fakeXhr';
import { alice, conversation, fakeServer, FakeWebSocket, setup, waitFor } from '../../test/fakes';
import { attachFiles, removeUpload, takeUploads, uploadsOf } from './uploadsSlice';

const limits: AttachmentLimits = { maxBytes: 1000, quotaBytes: 5000, usedBytes: 0 };
const file = (name: string, size: number, type = 'application/pdf') => new File(['x'.repeat(size)], name, { type });
const stored = (id: string, name: string, size: number) => ({ id, name, contentType: 'application/pdf', size });

beforeEach(() => {
  FakeXhr.instances = [];
  fakeServer({
    'GET /api/auth/currentuser': () => ({ currentUser: alice }),
    'GET /api/conversations': () => ({ conversations: [conversation('c1', 0)] }),
    'GET /api/notifications': () => ({ notifications: [], unreadCount: 0 }),
    'GET /api/attachments/limits': () => limits,
  });
});

describe('attaching files', () => {
  it('refuses a file over the limit, an empty one, and one over the quota before uploading anything', () => {
    const { store } = setup();
    const files = [file('big.pdf', 1001), file('empty.txt', 0), file('ok.pdf', 10)];
    store.dispatch(attachFiles('c1', files, { ...limits, usedBytes: 4995 }, () => new FakeXhr()));
    const uploads = uploadsOf(store.getState(), 'c1');
    expect(uploads.map((u) => [u.name, u.status, u.error])).toEqual([
      ['big.pdf', 'failed', 'Larger than the limit of 1000 bytes.'],
      ['empty.txt', 'failed', 'The file is empty.'],
      ['ok.pdf', 'failed', 'Your files would take more than your 4.9 KB. Delete messages with files to make room.'],
    ]);
    expect(FakeXhr.instances).toHaveLength(0);
  });

  it('uploads at once with progress, and the finished uploads go with the next message', async () => {
    const { store } = setup();
    store.dispatch(attachFiles('c1', [file('a.pdf', 100), file('b.pdf', 200)], limits, () => new FakeXhr()));
    const [a, b] = FakeXhr.instances;
    a!.progress(50, 100);
    expect(uploadsOf(store.getState(), 'c1').map((u) => [u.status, u.progress])).toEqual([
      ['uploading', 0.5],
      ['uploading', 0],
    ]);
    a!.answer(201, { attachment: stored('id-a', 'a.pdf', 100) });
    b!.answer(201, { attachment: stored('id-b', 'b.pdf', 200) });
    await waitFor(() => uploadsOf(store.getState(), 'c1').every((u) => u.status === 'done'), 'uploads done');
    expect(uploadsOf(store.getState(), 'other')).toEqual([]);

    const taken = store.dispatch(takeUploads('c1'));
    expect(taken.map((x) => x.id)).toEqual(['id-a', 'id-b']);
    expect(uploadsOf(store.getState(), 'c1')).toEqual([]);
  });

  it('sending takes the refused files out of the tray too', async () => {
    const { store } = setup();
    store.dispatch(attachFiles('c1', [file('big.pdf', 1001), file('a.pdf', 100)], limits, () => new FakeXhr()));
    FakeXhr.instances[0]!.answer(201, { attachment: stored('id-a', 'a.pdf', 100) });
    await waitFor(() => uploadsOf(store.getState(), 'c1')[1]!.status === 'done', 'upload done');
    expect(store.dispatch(takeUploads('c1')).map((x) => x.id)).toEqual(['id-a']);
    expect(uploadsOf(store.getState(), 'c1')).toEqual([]);
  });

  it('a file named like a picture whose bytes are not one loses its preview', async () => {
    const { store } = setup();
    store.dispatch(attachFiles('c1', [file('fake.png', 10, 'image/png'), file('real.png', 10, 'image/png')], limits, () => new FakeXhr()));
    expect(uploadsOf(store.getState(), 'c1').every((u) => u.previewUrl !== null)).toBe(true);
    const [fake, real] = FakeXhr.instances;
    fake!.answer(201, { attachment: { id: 'f', name: 'fake.png', contentType: 'application/octet-stream', size: 10 } });
    real!.answer(201, { attachment: { id: 'r', name: 'real.png', contentType: 'image/png', size: 10, width: 1, height: 1 } });
    await waitFor(() => uploadsOf(store.getState(), 'c1').every((u) => u.status === 'done'), 'uploads done');
    expect(uploadsOf(store.getState(), 'c1').map((u) => [u.name, u.previewUrl !== null])).toEqual([
      ['fake.png', false],
      ['real.png', true],
    ]);
  });

  it('takes at most ten files for one message', () => {
    const { store } = setup();
    const files = Array.from({ length: 11 }, (_, i) => file(`f${i}.pdf`, 1));
    store.dispatch(attachFiles('c1', files, limits, () => new FakeXhr()));
    expect(FakeXhr.instances).toHaveLength(10);
    expect(uploadsOf(store.getState(), 'c1')[10]).toMatchObject({ status: 'failed', error: 'A message carries at most 10 files.' });
  });

  it('shows why the server refused an upload, and removing one in progress cancels it', async () => {
    const { store } = setup();
    store.dispatch(attachFiles('c1', [file('a.png', 10, 'image/png'), file('b.pdf', 10)], limits, () => new FakeXhr()));
    const [a, b] = FakeXhr.instances;
    a!.answer(400, { error: { code: 'invalid_input', message: 'the image could not be read; it may be damaged' } });
    await waitFor(() => uploadsOf(store.getState(), 'c1')[0]!.status === 'failed', 'refusal');
    expect(uploadsOf(store.getState(), 'c1')[0]!.error).toBe('the image could not be read; it may be damaged');

    const second = uploadsOf(store.getState(), 'c1')[1]!;
    store.dispatch(removeUpload(second.localId));
    expect(b!.aborted).toBe(true);
    expect(uploadsOf(store.getState(), 'c1').map((u) => u.name)).toEqual(['a.png']);
  });
});

describe('sending with attachments', () => {
  it('sends the attachment ids, with or without text', async () => {
    const { store } = setup();
    await store.dispatch(api.endpoints.currentUser.initiate());
    const chat = FakeWebSocket.last('/ws/chat');
    chat.open();
    const pdf = stored('id-pdf', 'report.pdf', 1000);
    store.dispatch(sendRequested({ conversationId: 'c1', body: '', attachments: [pdf] }));
    store.dispatch(sendRequested({ conversationId: 'c1', body: 'see this', attachments: [] }));
    store.dispatch(sendRequested({ conversationId: 'c1', body: '  ', attachments: [] }));
    const sent = chat.sentOfType('send');
    expect(sent).toHaveLength(2);
    expect(sent[0]).toMatchObject({ body: '', attachmentIds: ['id-pdf'] });
    expect(sent[1]).not.toHaveProperty('attachmentIds');
    const pending = Object.values(store.getState().chat.pending);
    expect(pending[0]!.attachments).toEqual([pdf]);
  });
});
