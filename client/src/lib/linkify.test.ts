import { describe, expect, it } from 'vitest';
import { linkAt } from './linkify';

describe('linkAt', () => {
  it('finds an http(s) URL and leaves sentence punctuation outside', () => {
    expect(linkAt('see https://example.com/a?b=1, ok', 4)).toEqual({ text: 'https://example.com/a?b=1', href: 'https://example.com/a?b=1' });
    expect(linkAt('(http://x.org/Foo_(bar))', 1)?.text).toBe('http://x.org/Foo_(bar)');
    expect(linkAt('see https://example.com/a', 3)).toBeNull();
  });

  it('keeps underscores, asterisks and tildes in a URL, even at its end, unless they close a format', () => {
    expect(linkAt('https://x.org/snake_case_path', 0)?.text).toBe('https://x.org/snake_case_path');
    expect(linkAt('https://x.org/a*b*c', 0)?.text).toBe('https://x.org/a*b*c');
    // These lost their ending: "…#object.__init" went to the wrong anchor.
    const python = 'https://docs.python.org/3/reference/datamodel.html#object.__init__';
    expect(linkAt(python, 0)).toEqual({ text: python, href: python });
    expect(linkAt('https://x.org/path_', 0)?.text).toBe('https://x.org/path_');
    expect(linkAt('https://x.org/Tilde~', 0)?.text).toBe('https://x.org/Tilde~');
    // An open "_" or "*" before the link closes after it.
    expect(linkAt('_https://x.org/page_', 1, (m) => m === '_')?.text).toBe('https://x.org/page');
    expect(linkAt('**https://x.org/page**', 2, (m) => m === '*')?.text).toBe('https://x.org/page');
  });

  it('drops any number of closing parentheses it does not open, in linear time', () => {
    const text = `http://x.org/a${')'.repeat(100_000)}`;
    const start = performance.now();
    expect(linkAt(text, 0)?.text).toBe('http://x.org/a');
    expect(performance.now() - start).toBeLessThan(200);
  });

  it('refuses a URL too long to be written by hand, and no link starts inside it', () => {
    const long = `https://x.org/${'a'.repeat(2100)}`;
    expect(linkAt(long, 0)).toEqual({ text: long, href: null });
    expect(linkAt(`https://x.org/${'a'.repeat(2000)}`, 0)?.href).toBeTruthy();
  });

  it('links a bare www. address as https', () => {
    expect(linkAt('www.example.com/docs.', 0)).toEqual({ text: 'www.example.com/docs', href: 'https://www.example.com/docs' });
    expect(linkAt('WWW.Example.com', 0)?.href).toBe('https://www.example.com/');
    expect(linkAt('www.example', 0)?.href).toBeNull();
    expect(linkAt('www.', 0)).toBeNull();
  });

  it('never starts inside a word, an email address or a longer host name', () => {
    expect(linkAt('awww.example.com', 1)).toBeNull();
    expect(linkAt('xhttps://example.com', 1)).toBeNull();
    expect(linkAt('bob@www.example.com', 4)).toBeNull();
    expect(linkAt('mail.www.example.com', 5)).toBeNull();
    expect(linkAt('(www.example.com)', 1)?.text).toBe('www.example.com');
  });

  it('links http(s) URLs right after other words and punctuation, as it did before bare www. addresses came', () => {
    for (const [text, at] of [
      ['请看https://example.com/a', 2],
      ['Docs:https://example.com', 5],
      ['see-https://example.com', 4],
      ['1.https://example.com', 2],
      ['éhttps://example.com', 1],
      ['abc/https://example.com', 4],
    ] as const) {
      expect(linkAt(text, at)?.href, text).toMatch(/^https:\/\/example\.com\//);
    }
  });

  it('refuses a URL with a user name or password: it would go elsewhere than it shows', () => {
    expect(linkAt('www.google.com@evil.com', 0)?.href).toBeNull();
    expect(linkAt('https://google.com@evil.com/x', 0)?.href).toBeNull();
    expect(linkAt('http://user:pw@example.com', 0)?.href).toBeNull();
  });

  it('ends the host at full-width and ideographic dots and other non-ASCII punctuation', () => {
    expect(linkAt('www.example.com。次に', 0)).toEqual({ text: 'www.example.com', href: 'https://www.example.com/' });
    expect(linkAt('www.paypal.com。attacker。com', 0)).toEqual({ text: 'www.paypal.com', href: 'https://www.paypal.com/' });
    expect(linkAt('https://www.paypal.com．attacker．com', 0)?.href).toBe('https://www.paypal.com/');
    expect(linkAt('www.paypal.com｡attacker｡com', 0)?.href).toBe('https://www.paypal.com/');
    expect(linkAt('https://ja.wikipedia.org/wiki/東京', 0)?.text).toBe('https://ja.wikipedia.org/wiki/東京');
    expect(linkAt('www.münchen.de', 0)?.href).toBe('https://www.xn--mnchen-3ya.de/');
  });

  it('never links other schemes', () => {
    expect(linkAt('javascript:alert(1)', 0)).toBeNull();
    expect(linkAt('data:text/html,hi', 0)).toBeNull();
    expect(linkAt('https://ok.example/', 0)?.href).toBe('https://ok.example/');
  });
});
