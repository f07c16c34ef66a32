import { describe, expect, it } from 'vitest';
import { highlight, queryTerms } from './highlight';

const marked = (text: string, q: string) =>
  highlight(text, q)
    .filter((p) => p.match)
    .map((p) => p.text);

describe('highlight', () => {
  it('marks whole words, and the last word of the query also as a prefix', () => {
    expect(marked('The café opens at noon, cafeteria later', 'cafe')).toEqual(['café', 'cafeteria']);
    expect(marked('pizza tonight or pizzas tomorrow', 'pizza to')).toEqual(['pizza', 'tonight', 'tomorrow']);
    // "piz" is not the last word: only whole words match it.
    expect(marked('pizza and piz', 'piz night')).toEqual(['piz']);
  });

  it('ignores letter case and accents, and keeps the text intact', () => {
    const parts = highlight('…Zoë said HELLO!', 'zoe hello');
    expect(parts.map((p) => p.text).join('')).toBe('…Zoë said HELLO!');
    expect(parts.filter((p) => p.match).map((p) => p.text)).toEqual(['Zoë', 'HELLO']);
  });

  it('marks each emoji as a word, whatever its skin tone; a flag only as itself', () => {
    expect(marked('great👍 and 👍🏽 too', '👍')).toEqual(['👍', '👍🏽']);
    expect(marked('love ❤️ it', '❤')).toEqual(['❤️']);
    expect(marked('🇫🇷 and 🇷🇫', '🇫🇷')).toEqual(['🇫🇷']);
    expect(marked('the 👨‍👩‍👧 came', '👧')).toEqual(['👧']);
    expect(marked('press 1️⃣, not 1', '1️⃣')).toEqual(['1️⃣']);
    expect(queryTerms('👍🏿 great')).toEqual(['👍', 'great']);
  });

  it('takes a keycap right after letters or digits as a word of its own, as the server does', () => {
    expect(marked('x1️⃣ and 12️⃣', '1️⃣')).toEqual(['1️⃣']);
    expect(marked('x1️⃣ and 12️⃣', '2️⃣')).toEqual(['2️⃣']);
    expect(marked('x1️⃣ and 12️⃣', 'x 1')).toEqual(['x', '1️⃣', '1']);
    expect(queryTerms('ab#️⃣')).toEqual(['ab', '#⃣']);
  });

  it('a query without words marks nothing', () => {
    expect(queryTerms(' ?! ')).toEqual([]);
    expect(highlight('text', '?!')).toEqual([{ text: 'text', match: false }]);
  });
});
