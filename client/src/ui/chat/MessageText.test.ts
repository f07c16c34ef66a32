import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../lib/markdown';
import { MessageText } from './MessageText';

const html = (text: string) => renderToStaticMarkup(createElement(MessageText, { blocks: parseMessage(text), onBubble: false }));
/** The markup without class attributes, which only style it. */
const bare = (text: string) => html(text).replace(/ class="[^"]*"/g, '');

describe('MessageText', () => {
  it('renders formats as elements', () => {
    expect(bare('*b* _i_ ~s~ `c`')).toBe('<span><strong>b</strong> <em>i</em> <s>s</s> <code>c</code></span>');
  });

  it('links open in a new tab without an opener; www. addresses go to https', () => {
    expect(bare('see www.example.com')).toBe(
      '<span>see <a href="https://www.example.com/" target="_blank" rel="noopener noreferrer">www.example.com</a></span>',
    );
  });

  it('a code block keeps its text as written, unformatted and unlinked, and scrolls sideways', () => {
    const out = html('```\n  *x* = "https://x.org" <b>\n```');
    expect(out).toMatch(/^<pre dir="ltr" class="[^"]*overflow-x-auto[^"]*whitespace-pre[^"]*"><code>/);
    expect(out).toContain('<code>  *x* = &quot;https://x.org&quot; &lt;b&gt;</code>');
  });

  it('a quote runs in its own direction', () => {
    expect(bare('> שלום\nok')).toBe('<blockquote dir="auto">שלום</blockquote><span>ok</span>');
  });

  it('a code block runs left to right, whatever language its comments are in', () => {
    expect(bare('```\n// שלום\nx = 1\n```')).toBe('<pre dir="ltr"><code>// שלום\nx = 1</code></pre>');
  });

  it('the quote bar sits on the side the quote starts from', () => {
    expect(html('> a')).toMatch(/<blockquote dir="auto" class="[^"]*border-s-\[3px\] ps-2/);
  });

  it('faces, globs and lone ">" or fences show as written', () => {
    expect(bare(';_; and *_* in src/*.ts')).toBe('<span>;_; and *_* in src/*.ts</span>');
    expect(bare('>')).toBe('<span>&gt;</span>');
    expect(bare('```')).toBe('<span>```</span>');
  });

  it('a link shows where it goes: no user name, no host past an ideographic dot', () => {
    expect(bare('www.google.com@evil.com')).toBe('<span>www.google.com@evil.com</span>');
    expect(bare('www.paypal.com。attacker。com')).toBe(
      '<span><a href="https://www.paypal.com/" target="_blank" rel="noopener noreferrer">www.paypal.com</a>。attacker。com</span>',
    );
  });

  it('markup in a message stays text', () => {
    expect(bare('<img src=x onerror=alert(1)> *<script>*')).toBe(
      '<span>&lt;img src=x onerror=alert(1)&gt; <strong>&lt;script&gt;</strong></span>',
    );
  });
});
