import { describe, expect, it } from 'vitest';
import { paragraphText, parseMessage, plainText, type Inline } from './markdown';

/** The inline nodes of a one-paragraph message. */
function inline(text: string): Inline[] {
  const blocks = parseMessage(text);
  expect(blocks).toHaveLength(1);
  expect(blocks[0]!.kind).toBe('paragraph');
  return (blocks[0] as { children: Inline[] }).children;
}
const t = (text: string): Inline => ({ kind: 'text', text });

describe('inline formats', () => {
  it('bold, italic, strikethrough and code', () => {
    expect(inline('a *b* **c** _d_ ~e~ ~~f~~ `g`')).toEqual([
      t('a '),
      { kind: 'bold', children: [t('b')] },
      t(' '),
      { kind: 'bold', children: [t('c')] },
      t(' '),
      { kind: 'italic', children: [t('d')] },
      t(' '),
      { kind: 'strike', children: [t('e')] },
      t(' '),
      { kind: 'strike', children: [t('f')] },
      t(' '),
      { kind: 'code', text: 'g' },
    ]);
  });

  it('***bold italic***, as in Markdown', () => {
    expect(inline('***both*** here')).toEqual([{ kind: 'bold', children: [{ kind: 'italic', children: [t('both')] }] }, t(' here')]);
    expect(inline('***a* b**')).toEqual([t('***a* b**')]);
  });

  it('nests formats, next to punctuation', () => {
    expect(inline('(*bold _and italic_*)!')).toEqual([
      t('('),
      { kind: 'bold', children: [t('bold '), { kind: 'italic', children: [t('and italic')] }] },
      t(')!'),
    ]);
  });

  it('leaves ordinary text alone', () => {
    for (const text of [
      'snake_case_names and file_name.txt',
      '2*3*4 = 24, a * b * c',
      '__init__ and **kwargs',
      'costs ~5 or ~10',
      '_private_var',
      'a lone * star, a lone _ underscore, a lone ~ tilde',
      '*** and ~~~ and ___',
      '* item\n* item',
    ]) {
      expect(inline(text)).toEqual([t(text)]);
    }
  });

  it('leaves faces, paths, globs and SQL patterns alone: a marker needs a space or punctuation on its outer side', () => {
    for (const text of [
      ';_; so sad ;_;',
      '^_^ hi ^_^',
      '*_*',
      '(*^_^*)',
      ':*) :*(',
      '*-*',
      'ls src/*.ts test/*.ts',
      'cp *.txt backup/*',
      '**/*.js and src/**/*.ts',
      "LIKE '%_a_%'",
      'a/*b*/c',
      'e.g._ok_',
      '~/a/b~',
      // Devanagari: "ी" is a combining mark, part of the word before "_".
      'की_बात_',
    ]) {
      expect(inline(text), text).toEqual([t(text)]);
    }
  });

  it('formats next to punctuation, and around emoji', () => {
    expect(inline('(*bold*)')).toEqual([t('('), { kind: 'bold', children: [t('bold')] }, t(')')]);
    expect(inline('"*q*"')).toEqual([t('"'), { kind: 'bold', children: [t('q')] }, t('"')]);
    expect(inline('*bold*!')).toEqual([{ kind: 'bold', children: [t('bold')] }, t('!')]);
    expect(inline('¡*hola*!')).toEqual([t('¡'), { kind: 'bold', children: [t('hola')] }, t('!')]);
    expect(inline('*🎉*')).toEqual([{ kind: 'bold', children: [t('🎉')] }]);
    expect(inline('_*a*_')).toEqual([{ kind: 'italic', children: [{ kind: 'bold', children: [t('a')] }] }]);
  });

  it('does not let formats overlap or cross lines', () => {
    expect(inline('*a _b* c_')).toEqual([{ kind: 'bold', children: [t('a _b')] }, t(' c_')]);
    expect(inline('*one\ntwo*')).toEqual([t('*one\ntwo*')]);
  });

  it('formats nothing inside code, and keeps markers a code span holds', () => {
    expect(inline('`*not bold* https://x.org`')).toEqual([{ kind: 'code', text: '*not bold* https://x.org' }]);
    expect(inline('``a `tick` here``')).toEqual([{ kind: 'code', text: 'a `tick` here' }]);
    expect(inline('an ` alone')).toEqual([t('an ` alone')]);
  });

  it('links URLs and www. addresses, keeping their underscores and asterisks', () => {
    expect(inline('see https://x.org/a_b_c and www.example.com.')).toEqual([
      t('see '),
      { kind: 'link', text: 'https://x.org/a_b_c', href: 'https://x.org/a_b_c' },
      t(' and '),
      { kind: 'link', text: 'www.example.com', href: 'https://www.example.com/' },
      t('.'),
    ]);
    expect(inline('https://x.org/*a*')).toEqual([{ kind: 'link', text: 'https://x.org/*a*', href: 'https://x.org/*a*' }]);
  });

  it('keeps markers at the end of a URL in it, unless they close a format opened before it', () => {
    const python = 'https://docs.python.org/3/reference/datamodel.html#object.__init__';
    expect(inline(`see ${python}`)).toEqual([t('see '), { kind: 'link', text: python, href: python }]);
    expect(inline('_see https://x.org/path_')).toEqual([
      { kind: 'italic', children: [t('see '), { kind: 'link', text: 'https://x.org/path', href: 'https://x.org/path' }] },
    ]);
    expect(inline('_a_ https://x.org/path_')).toEqual([
      { kind: 'italic', children: [t('a')] },
      t(' '),
      { kind: 'link', text: 'https://x.org/path_', href: 'https://x.org/path_' },
    ]);
  });

  it('links no part of a refused URL', () => {
    expect(inline('http://user@www.evil.com')).toEqual([t('http://user@www.evil.com')]);
  });

  it('formats a link as a whole', () => {
    expect(inline('*https://x.org/a_b*')).toEqual([{ kind: 'bold', children: [{ kind: 'link', text: 'https://x.org/a_b', href: 'https://x.org/a_b' }] }]);
    expect(inline('_see www.example.com_')).toEqual([
      { kind: 'italic', children: [t('see '), { kind: 'link', text: 'www.example.com', href: 'https://www.example.com/' }] },
    ]);
  });

  it('never links other schemes, and keeps markup as text', () => {
    expect(inline('javascript:alert(1) <img src=x onerror=alert(1)>')).toEqual([t('javascript:alert(1) <img src=x onerror=alert(1)>')]);
  });
});

describe('blocks', () => {
  it('a fenced code block keeps its whitespace and drops the language word', () => {
    expect(parseMessage('look:\n```js\nif (a) {\n  *b* = `c`;\n}\n```\ndone')).toEqual([
      { kind: 'paragraph', children: [t('look:')] },
      { kind: 'codeBlock', text: 'if (a) {\n  *b* = `c`;\n}' },
      { kind: 'paragraph', children: [t('done')] },
    ]);
  });

  it('a code block on one line, one with text after it, and one never closed', () => {
    expect(parseMessage('```x = 1```')).toEqual([{ kind: 'codeBlock', text: 'x = 1' }]);
    expect(parseMessage('```a b```  then *more*')).toEqual([
      { kind: 'codeBlock', text: 'a b' },
      { kind: 'paragraph', children: [t('then '), { kind: 'bold', children: [t('more')] }] },
    ]);
    expect(parseMessage('```\nstill code\n\n  indented')).toEqual([{ kind: 'codeBlock', text: 'still code\n\n  indented' }]);
  });

  it('a fence only at the start of a line', () => {
    expect(parseMessage('say ``` here')).toEqual([{ kind: 'paragraph', children: [t('say ``` here')] }]);
  });

  it('quote lines, with formats inside', () => {
    expect(parseMessage('> first *line*\n>\n> third\nreply')).toEqual([
      { kind: 'quote', children: [t('first '), { kind: 'bold', children: [t('line')] }, t('\n\nthird')] },
      { kind: 'paragraph', children: [t('reply')] },
    ]);
    // Only "> " quotes: emoticons and arrows stay.
    expect(parseMessage('>_< and >.>')).toEqual([{ kind: 'paragraph', children: [t('>_< and >.>')] }]);
  });

  it('">" with nothing to quote stays as written', () => {
    expect(parseMessage('>')).toEqual([{ kind: 'paragraph', children: [t('>')] }]);
    expect(parseMessage('> ')).toEqual([{ kind: 'paragraph', children: [t('> ')] }]);
    expect(parseMessage('>\n>')).toEqual([{ kind: 'paragraph', children: [t('>\n>')] }]);
    expect(parseMessage('hi\n>')).toEqual([{ kind: 'paragraph', children: [t('hi\n>')] }]);
    expect(plainText('>')).toBe('>');
  });

  it('a fence around nothing stays as written: no empty code box', () => {
    expect(parseMessage('```')).toEqual([{ kind: 'paragraph', children: [t('```')] }]);
    expect(parseMessage('```\n```')).toEqual([{ kind: 'paragraph', children: [t('```\n```')] }]);
    expect(parseMessage('text ```\ncode\n```')).toEqual([{ kind: 'paragraph', children: [t('text ```\ncode\n```')] }]);
    expect(parseMessage('```\n```\nx = 1\n```')).toEqual([
      { kind: 'paragraph', children: [t('```')] },
      { kind: 'codeBlock', text: 'x = 1' },
    ]);
  });

  it('a message that would show nothing is shown as written', () => {
    expect(parseMessage('` `')).toEqual([{ kind: 'paragraph', children: [t('` `')] }]);
    expect(parseMessage('')).toEqual([]);
  });

  it('reads Windows line ends as line ends', () => {
    expect(parseMessage('```\r\ncode\r\n```')).toEqual([{ kind: 'codeBlock', text: 'code' }]);
    expect(parseMessage('> a\r\n>\r\n> b\r\nc')).toEqual([
      { kind: 'quote', children: [t('a\n\nb')] },
      { kind: 'paragraph', children: [t('c')] },
    ]);
  });

  it('paragraphText: the text the direction of the message goes by, without quotes and code', () => {
    expect(paragraphText(parseMessage('> hello there\nשלום'))).toBe('שלום');
    expect(paragraphText(parseMessage('```\nשלום\n```\n*ok*?'))).toBe('ok?');
  });

  it('keeps line breaks and blank lines inside a paragraph', () => {
    expect(parseMessage('one\n\ntwo')).toEqual([{ kind: 'paragraph', children: [t('one\n\ntwo')] }]);
  });

  it('a long message of markers that never close stays as written, and parses quickly', () => {
    const text = '*a _b ~c **d ~~e f '.repeat(250).trim();
    const start = performance.now();
    expect(plainText(text)).toBe(text);
    expect(performance.now() - start).toBeLessThan(1000);
  });

  it('4,000 characters of almost-links parse quickly', () => {
    // '_www.^' took 12.7 s: each "www." was tried to the end of the line, its ")"s trimmed one recount at a time.
    for (const text of [
      '_www.^'.repeat(333) + ')'.repeat(2000),
      '_http://a.^'.repeat(200) + ')'.repeat(1800),
      '_https://x.org/^'.repeat(150) + ')'.repeat(1600),
      '(www.x'.repeat(333) + ')'.repeat(2000),
      'www.'.repeat(1000),
      `https://x.org/${'_*~'.repeat(1300)}`,
      '*(*(*(a'.repeat(570) + ')*)*)*'.repeat(100),
      '_*~h '.repeat(800),
    ]) {
      const start = performance.now();
      parseMessage(text);
      expect(performance.now() - start, text.slice(0, 20)).toBeLessThan(100);
    }
  });
});

describe('plainText', () => {
  it('drops the markers and keeps the text, on one line', () => {
    expect(plainText('*bold* _it_ ~gone~ `code` www.example.com')).toBe('bold it gone code www.example.com');
    expect(plainText('> quoted\nanswer\n```\nx = 1\n  y\n```')).toBe('quoted answer x = 1 y');
  });

  it('keeps words apart where a code span touched them', () => {
    expect(plainText('`foo`bar and x`y`')).toBe('foo bar and x y');
    expect(plainText('call `f()`.')).toBe('call f().');
  });

  it('leaves text without formats as it is', () => {
    expect(plainText('snake_case_names 2*3*4')).toBe('snake_case_names 2*3*4');
  });

  it('a cut preview keeps an unclosed marker as text', () => {
    expect(plainText('*bold text that was cu…')).toBe('*bold text that was cu…');
  });
});
