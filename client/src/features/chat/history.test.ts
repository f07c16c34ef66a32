import { beforeEach, describe, expect, it } from 'vitest';
import { api } from '../../api/http';
import type { Message } from '../../api/types';
import { alice, conversation, fakeServer, msg, setup } from '../../test/fakes';
import { messageReceived } from './chatSlice';
import { jumpToLatest, loadAroundFocus, loadNewer } from './history';
import { messageFocused } from './viewSlice';

let messages: Message[];
let server: ReturnType<typeof fakeServer>;
/** Runs once the server has answered a page `after` this seq (a message arriving while that answer is on its way). */
let onPage: { after: number; then: () => void } | null;

beforeEach(() => {
  messages = Array.from({ length: 300 }, (_, i) => msg('c1', i + 1));
  onPage = null;
  server = fakeServer({
    'GET /api/auth/currentuser': () => ({ currentUser: alice }),
    'GET /api/conversations': () => ({ conversations: [conversation('c1', messages.length)] }),
    'GET /api/conversations/c1/messages': (url) => {
      const after = url.searchParams.get('after');
      const limit = Number(url.searchParams.get('limit') ?? 50);
      if (after === null) return { messages: messages.slice(-limit), hasMore: messages.length > limit };
      const rest = messages.filter((m) => m.seq > Number(after));
      const page = { messages: rest.slice(0, limit), hasMore: rest.length > limit };
      if (onPage?.after === Number(after)) onPage.then();
      return page;
    },
  });
});

async function opened() {
  const { store } = setup();
  await store.dispatch(api.endpoints.conversations.initiate(undefined, { subscribe: false }));
  await store.dispatch(api.endpoints.messages.initiate({ conversationId: 'c1' }, { subscribe: false }));
  return store;
}

const seqs = (store: Awaited<ReturnType<typeof opened>>) => store.getState().chat.messages['c1']!.items.map((m) => m.seq);

describe('history around a message', () => {
  it('opens at the message, grows down to the newest, then takes what arrived meanwhile', async () => {
    const store = await opened();
    store.dispatch(messageFocused({ conversationId: 'c1', seq: 100 }));
    await store.dispatch(loadAroundFocus('c1', 100));
    expect(seqs(store)[0]).toBe(75);
    expect(store.getState().chat.messages['c1']!.hasMoreAfter).toBe(true);
    expect(store.getState().chatView.focus?.seq).toBe(100); // the list scrolls to it, then clears it

    // A message arrives while the window stops short of the end: it waits.
    const early = msg('c1', 301);
    messages.push(early);
    store.dispatch(messageReceived(early));
    expect(seqs(store).at(-1)).toBe(124);
    // Another arrives just after the server answered the last page: the window fetches it once at the end.
    const late = msg('c1', 302);
    onPage = {
      after: 224,
      then: () => {
        messages.push(late);
        store.dispatch(messageReceived(late));
      },
    };

    while (store.getState().chat.messages['c1']!.hasMoreAfter) await store.dispatch(loadNewer('c1'));
    expect(seqs(store)).toEqual(Array.from({ length: 302 - 74 }, (_, i) => 75 + i));
    const afters = server.calls.filter((c) => c.search.get('after') !== null).map((c) => c.search.get('after'));
    expect(afters).toEqual(['74', '124', '224', '301']);
  });

  it('a message that is not there is no longer focused', async () => {
    const store = await opened();
    store.dispatch(messageFocused({ conversationId: 'c1', seq: 999 }));
    await store.dispatch(loadAroundFocus('c1', 999));
    expect(store.getState().chatView.focus).toBeNull();
  });

  it('"jump to latest" drops a window that stops short of the newest messages, and only such a window', async () => {
    const store = await opened();
    store.dispatch(jumpToLatest('c1'));
    expect(seqs(store).at(-1)).toBe(300);
    await store.dispatch(loadAroundFocus('c1', 10));
    store.dispatch(jumpToLatest('c1'));
    expect(store.getState().chat.messages['c1']).toBeUndefined();
  });
});
