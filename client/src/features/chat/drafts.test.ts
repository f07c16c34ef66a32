import { describe, expect, it } from 'vitest';
import { MAX_BODY_CHARS } from '../../api/generated/limits';
import { signedInAs } from '../../test/actions';
import { setup } from '../../test/fakes';
import { sessionEnded } from '../session/sessionSlice';
import { drafts, makeDrafts, MAX_DRAFTS, type DraftStorage } from './drafts';

/** A tab's sessionStorage: outlives the page (a reload makes new drafts on the same storage). */
function tabStorage(): DraftStorage & { items: Map<string, string> } {
  const items = new Map<string, string>();
  return {
    items,
    getItem: (k) => items.get(k) ?? null,
    setItem: (k, v) => void items.set(k, v),
    removeItem: (k) => void items.delete(k),
  };
}

describe('drafts', () => {
  it('outlive a reload, per user and conversation', () => {
    const storage = tabStorage();
    const before = makeDrafts(storage);
    before.set('alice', 'c1', 'half a thought');
    before.set('alice', 'c2', 'another');
    const after = makeDrafts(storage);
    expect(after.get('alice', 'c1')).toBe('half a thought');
    expect(after.get('alice', 'c2')).toBe('another');
    expect(after.get('bob', 'c1')).toBe('');
  });

  it('go once emptied (a message sent)', () => {
    const storage = tabStorage();
    const d = makeDrafts(storage);
    d.set('alice', 'c1', 'hello');
    d.set('alice', 'c1', '');
    expect(makeDrafts(storage).get('alice', 'c1')).toBe('');
  });

  it('all go when cleared (signed out), stored ones too', () => {
    const storage = tabStorage();
    const d = makeDrafts(storage);
    d.set('alice', 'c1', 'hello');
    d.clear();
    expect(d.get('alice', 'c1')).toBe('');
    expect(storage.items.size).toBe(0);
  });

  it('are bounded: the ones written last, each stored up to the longest message', () => {
    const storage = tabStorage();
    const d = makeDrafts(storage);
    for (let i = 0; i <= MAX_DRAFTS; i++) d.set('alice', `c${i}`, `draft ${i}`);
    d.set('alice', 'c1', 'written again');
    const long = '😀'.repeat(MAX_BODY_CHARS + 10);
    d.set('alice', 'c2', long);
    expect(d.get('alice', 'c2')).toBe(long); // whole while the page lives
    const after = makeDrafts(storage);
    expect(after.get('alice', 'c0')).toBe('');
    expect(after.get('alice', 'c1')).toBe('written again');
    expect(after.get('alice', `c${MAX_DRAFTS}`)).toBe(`draft ${MAX_DRAFTS}`);
    expect(after.get('alice', 'c2')).toBe('😀'.repeat(MAX_BODY_CHARS));
  });

  it('are kept in memory where the storage refuses, and ignore what they cannot read', () => {
    const refusing: DraftStorage = {
      getItem: () => {
        throw new Error('SecurityError');
      },
      setItem: () => {
        throw new Error('QuotaExceededError');
      },
      removeItem: () => {},
    };
    const d = makeDrafts(refusing);
    d.set('alice', 'c1', 'still here');
    expect(d.get('alice', 'c1')).toBe('still here');

    const damaged = tabStorage();
    damaged.setItem('gochat.drafts', '{not json');
    expect(makeDrafts(damaged).get('alice', 'c1')).toBe('');
    damaged.setItem('gochat.drafts', JSON.stringify([['alice:c1', 42], 'x', ['alice:c2', 'ok']]));
    expect(makeDrafts(damaged).get('alice', 'c2')).toBe('ok');
  });

  it('of this tab go when the session ends', () => {
    const { store } = setup();
    store.dispatch(signedInAs('alice'));
    drafts.set('alice', 'c1', 'not for the next person');
    store.dispatch(sessionEnded());
    expect(drafts.get('alice', 'c1')).toBe('');
  });
});
