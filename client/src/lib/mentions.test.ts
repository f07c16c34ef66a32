import { describe, expect, it } from 'vitest';
import { completeMention, mentionCandidates, mentionsIn, mentionTypedAt, splitMentions } from './mentions';
import shared from './mentions.cases.json';

const members = new Map(['ann', 'Bob_2', 'carol.'].map((u) => [u.toLowerCase(), u]));
const lookup = (name: string) => members.get(name.toLowerCase());

describe('splitMentions', () => {
  it('cuts out the mentions of known names, in any case, as the user writes them', () => {
    expect(splitMentions('hi @ANN and @bob_2!', lookup)).toEqual([
      { text: 'hi ' },
      { text: '@ANN', username: 'ann' },
      { text: ' and ' },
      { text: '@bob_2', username: 'Bob_2' },
      { text: '!' },
    ]);
  });

  it('tries the name without its trailing full stop, unless the full stop is part of a name', () => {
    expect(splitMentions('ask @ann.', lookup)).toEqual([{ text: 'ask ' }, { text: '@ann', username: 'ann' }, { text: '.' }]);
    expect(splitMentions('@carol.', lookup)).toEqual([{ text: '@carol.', username: 'carol.' }]);
  });

  it('leaves unknown names, addresses and a lone "@" as text', () => {
    for (const text of ['@dave hi', 'mail ann@example.com', 'a @ b', '@']) {
      expect(splitMentions(text, lookup)).toEqual([{ text }]);
    }
    expect(splitMentions('', lookup)).toEqual([]);
  });
});

describe('mentionTypedAt', () => {
  it('finds the name being typed right after an "@" at a word start', () => {
    expect(mentionTypedAt('hi @an', 6)).toEqual({ start: 3, query: 'an' });
    expect(mentionTypedAt('@', 1)).toEqual({ start: 0, query: '' });
    expect(mentionTypedAt('(@b', 3)).toEqual({ start: 1, query: 'b' });
  });

  it('is not a mention in an address, after a space, or past the caret', () => {
    expect(mentionTypedAt('ann@ex', 6)).toBeNull();
    expect(mentionTypedAt('@ann hi', 7)).toBeNull();
    expect(mentionTypedAt('hello', 5)).toBeNull();
    expect(mentionTypedAt('@ann', 0)).toBeNull();
  });
});

describe('mentionCandidates', () => {
  const names = ['ann', 'bob', 'joanna', 'Annika', 'carl'];
  it('offers names starting with the query first, then those holding it', () => {
    expect(mentionCandidates(names, 'an')).toEqual(['ann', 'Annika', 'joanna']);
    expect(mentionCandidates(names, '')).toEqual(names);
    expect(mentionCandidates(names, 'zz')).toEqual([]);
    expect(mentionCandidates(names, '', 2)).toEqual(['ann', 'bob']);
  });
});

describe('completeMention', () => {
  it('replaces what was typed of the name, with one space after it', () => {
    expect(completeMention('hi @an', 3, 6, 'ann')).toEqual({ text: 'hi @ann ', caret: 8 });
    expect(completeMention('hi @a there', 3, 5, 'ann')).toEqual({ text: 'hi @ann there', caret: 8 });
    expect(completeMention('@annx, ok', 0, 2, 'ann')).toEqual({ text: '@ann , ok', caret: 5 });
  });
});

describe('mentionsIn', () => {
  const names = new Map(shared.members.map((u) => [u.toLowerCase(), u]));
  it.each(shared.cases)('$body', ({ body, mentions }) => {
    expect(mentionsIn(body, (name) => names.get(name.toLowerCase()))).toEqual(mentions);
  });
});
