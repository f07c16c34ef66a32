// The formatting a message may carry, as chat apps write it (Slack, Mattermost, Element):
//
//   *bold* or **bold**   _italic_   ~strike~ or ~~strike~~   ***bold italic***
//   `code`               http(s):// and www. links
//   ```                  a code block, from a line starting with ``` to the next ``` (or the end);
//   code                 a single word right after the opening ``` names the language (not shown)
//   ```
//   > quote              lines starting with "> " (or a line that is just ">")
//
// The result is a tree of plain data that the UI renders as React elements, never as HTML.
// A marker opens only after a space or opening punctuation and closes only before a space or
// closing punctuation, and a format holds at least a letter, digit or emoji; so snake_case_names,
// 2*3*4, __init__, "a * b", src/*.ts, ~/a/b, ;_; and URLs stay as written, and so do markers
// without a partner, and fences and ">" around nothing. Formats do not cross lines, and nothing
// inside code is formatted or linked.
import { linkAt } from './linkify';

export type Inline =
  | { kind: 'text'; text: string }
  | { kind: 'code'; text: string }
  | { kind: 'link'; text: string; href: string }
  | { kind: 'bold' | 'italic' | 'strike'; children: Inline[] };

export type Block =
  | { kind: 'paragraph'; children: Inline[] }
  | { kind: 'quote'; children: Inline[] }
  | { kind: 'codeBlock'; text: string };

const FENCE = '```';
const QUOTE = /^>(?: |$)/;
/** "```js" + newline: the language of a code block. */
const LANGUAGE = /^[\w+#.-]*[ \t]*\n/;
/** "***" is bold and italic (see tree). */
const STYLE = { '*': 'bold', '**': 'bold', '***': 'bold', _: 'italic', '~': 'strike', '~~': 'strike' } as const;
type Marker = keyof typeof STYLE;
const SPACE = /\s/;
/** What a marker may open after, besides a space: opening punctuation, a dash, another marker ("(*a*)", "¡*hola*!", "_*a*_"). */
const OPEN_AFTER = '([{"\'«¡¿—-*_~';
/** What a marker may close before, besides a space: closing punctuation, another marker ("*a*!", "*a*…"). */
const CLOSE_BEFORE = '.,;:!?)]}"\'»…*_~';
/** What may not follow an opening marker, or come before a closing one: "*.txt", "~/a/b", "backup/*". */
const NOT_OPENING = '.,;:!?)]}»…/\\';
const NOT_CLOSING = '([{«¡¿/\\';
/** A format must hold something to see: ";_;", "*_*" or "(*^_^*)" are faces, not formats. */
const VISIBLE = /[\p{L}\p{N}\p{M}\p{Extended_Pictographic}]/u;
const WORD_END = /[\p{L}\p{N}\p{M}]$/u;
const WORD_START = /^[\p{L}\p{N}]/u;

export function parseMessage(message: string): Block[] {
  // Windows line ends: "```\r\n" would start the code with a blank line, ">\r" would be no quote.
  const text = message.replace(/\r\n?/g, '\n');
  const blocks: Block[] = [];
  let paragraph: string[] = [];
  /** Quote lines as written, with their ">". */
  let quote: string[] = [];
  const endParagraph = () => {
    const lines = withoutBlankEnds(paragraph);
    if (lines.length > 0) blocks.push({ kind: 'paragraph', children: parseLines(lines) });
    paragraph = [];
  };
  const endQuote = () => {
    const lines = withoutBlankEnds(quote.map((line) => line.replace(QUOTE, '')));
    if (lines.length > 0) {
      endParagraph();
      blocks.push({ kind: 'quote', children: parseLines(lines) });
    } else {
      // ">" with nothing to quote is no quote: it stays as written.
      paragraph.push(...quote);
    }
    quote = [];
  };
  let rest = text;
  while (rest !== '') {
    if (rest.startsWith(FENCE)) {
      const code = fencedCode(rest.slice(FENCE.length));
      // "```" or "```\n```" would be an empty box: such a fence stays as written.
      if (code.text.trim() !== '') {
        endQuote();
        endParagraph();
        blocks.push({ kind: 'codeBlock', text: code.text });
        rest = code.after;
        continue;
      }
    }
    const end = rest.indexOf('\n');
    const line = end < 0 ? rest : rest.slice(0, end);
    rest = end < 0 ? '' : rest.slice(end + 1);
    if (QUOTE.test(line)) {
      quote.push(line);
    } else {
      endQuote();
      paragraph.push(line);
    }
  }
  endQuote();
  endParagraph();
  // What still shows nothing ("` `") is shown as written.
  if (text.trim() !== '' && blocks.every((b) => blockText(b).trim() === '')) return [{ kind: 'paragraph', children: [{ kind: 'text', text }] }];
  return blocks;
}

/** Blank lines around a quote or a code block would only add to their margins. */
function withoutBlankEnds(lines: string[]): string[] {
  let from = 0;
  let to = lines.length;
  while (from < to && lines[from]!.trim() === '') from++;
  while (to > from && lines[to - 1]!.trim() === '') to--;
  return lines.slice(from, to);
}

/** The code after an opening fence, up to the closing one (or the end), and the text after it. */
function fencedCode(afterFence: string): { text: string; after: string } {
  const language = LANGUAGE.exec(afterFence);
  const body = language ? afterFence.slice(language[0].length) : afterFence;
  const close = body.indexOf(FENCE);
  if (close < 0) return { text: body.replace(/\n$/, ''), after: '' };
  return { text: body.slice(0, close).replace(/\n$/, ''), after: body.slice(close + FENCE.length).replace(/^[ \t]*\n?/, '') };
}

/** The message as one line of plain text, without markers: for previews, quotes and notifications. */
export function plainText(text: string): string {
  return parseMessage(text).map(blockText).join(' ').replace(/\s+/g, ' ').trim();
}

/**
 * The text of the paragraphs only: what the browser's dir="auto" on the whole message looks at
 * to choose its direction, as quotes and code blocks have a direction of their own.
 */
export function paragraphText(blocks: Block[]): string {
  return blocks
    .filter((b) => b.kind === 'paragraph')
    .map(blockText)
    .join('\n');
}

function blockText(block: Block): string {
  return block.kind === 'codeBlock' ? block.text : inlineText(block.children);
}

function inlineText(nodes: Inline[]): string {
  let out = '';
  let afterCode = false;
  for (const n of nodes) {
    const text = 'children' in n ? inlineText(n.children) : n.text;
    const code = n.kind === 'code';
    // In "`foo`bar" the backticks kept two words apart; without them a space must.
    if ((code || afterCode) && WORD_END.test(out) && WORD_START.test(text)) out += ' ';
    out += text;
    afterCode = code;
  }
  return out;
}

function parseLines(lines: string[]): Inline[] {
  const out: Inline[] = [];
  lines.forEach((line, i) => {
    if (i > 0) pushText(out, '\n');
    for (const node of parseLine(line)) {
      if (node.kind === 'text') pushText(out, node.text);
      else out.push(node);
    }
  });
  return out;
}

/** A run of one marker character that may open or close a format; `partner` is set once paired. */
interface Delimiter {
  kind: 'delimiter';
  marker: Marker;
  /** Where it ends in the line. */
  end: number;
  partner?: number;
}
type Token = Inline | Delimiter;

/**
 * One line: code spans and links are atoms (nothing formats inside them); each closing marker
 * pairs with the nearest open one of its kind when there is something to see between them;
 * markers opened between the two stay as text, so formats nest but never overlap.
 */
function parseLine(line: string): Inline[] {
  const tokens: Token[] = [];
  /** Indexes in `tokens` of the delimiters still open. */
  const open: number[] = [];
  let text = '';
  const emit = (t: Token) => {
    if (text) tokens.push({ kind: 'text', text });
    text = '';
    tokens.push(t);
  };
  /** Where the last letter, digit, emoji, code span or link ends: a format holds at least one. */
  let visibleEnd = -1;
  /** No link starts before this: a refused one covers it ("_www.^_www.^…" would otherwise be tried at each "www"). */
  let noLinkBefore = 0;
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    const run = runAt(line, i);
    if (c === '`') {
      // A code span closes with a run of as many backticks as opened it.
      const close = findRun(line, run, i + run.length);
      if (close >= 0) {
        emit({ kind: 'code', text: line.slice(i + run.length, close) });
        i = visibleEnd = close + run.length;
        continue;
      }
    } else if (run in STYLE) {
      const marker = run as Marker;
      let at = closesAt(line, i, run.length) ? open.findLastIndex((j) => (tokens[j] as Delimiter).marker === marker) : -1;
      if (at >= 0 && (tokens[open[at]!] as Delimiter).end >= visibleEnd) at = -1;
      if (at >= 0 || opensAt(line, i, run.length)) {
        const delimiter: Delimiter = { kind: 'delimiter', marker, end: i + run.length };
        emit(delimiter);
        if (at >= 0) {
          const opener = tokens[open[at]!] as Delimiter;
          opener.partner = tokens.length - 1;
          delimiter.partner = open[at];
          open.length = at;
        } else {
          open.push(tokens.length - 1);
        }
        i += run.length;
        continue;
      }
    } else if ('hHwW'.includes(c) && i >= noLinkBefore) {
      const link = linkAt(line, i, (marker) => open.some((j) => (tokens[j] as Delimiter).marker[0] === marker));
      if (link?.href) {
        emit({ kind: 'link', text: link.text, href: link.href });
        i = visibleEnd = i + link.text.length;
        continue;
      }
      if (link) noLinkBefore = i + link.text.length;
    }
    if (VISIBLE.test(run)) visibleEnd = i + run.length;
    text += run;
    i += run.length;
  }
  if (text) tokens.push({ kind: 'text', text });
  return tree(tokens, 0, tokens.length);
}

function tree(tokens: Token[], from: number, to: number): Inline[] {
  const out: Inline[] = [];
  for (let i = from; i < to; i++) {
    const t = tokens[i]!;
    if (t.kind !== 'delimiter') {
      if (t.kind === 'text') pushText(out, t.text);
      else out.push(t);
    } else if (t.partner !== undefined && t.partner > i) {
      const children = tree(tokens, i + 1, t.partner);
      out.push(t.marker === '***' ? { kind: 'bold', children: [{ kind: 'italic', children }] } : { kind: STYLE[t.marker], children });
      i = t.partner;
    } else {
      pushText(out, t.marker);
    }
  }
  return out;
}

/** The run of marker characters at `i` ("**", "```"), or the one character there (both halves of an emoji). */
function runAt(line: string, i: number): string {
  const c = line[i]!;
  if (!'*_~`'.includes(c)) return String.fromCodePoint(line.codePointAt(i)!);
  let end = i + 1;
  while (line[end] === c) end++;
  return line.slice(i, end);
}

/** Where the next run of exactly `run` starts (a longer run does not close it), or -1. */
function findRun(line: string, run: string, from: number): number {
  for (let at = line.indexOf(run, from); at >= 0; at = line.indexOf(run, at + 1)) {
    if (line[at - 1] !== run[0] && line[at + run.length] !== run[0]) return at;
    while (line[at + 1] === run[0]) at++;
  }
  return -1;
}

/** A marker of `length` at `i` opens after a space or opening punctuation, right before the text. */
function opensAt(line: string, i: number, length: number): boolean {
  const before = line[i - 1];
  const after = line[i + length];
  return (before === undefined || SPACE.test(before) || OPEN_AFTER.includes(before)) && after !== undefined && !SPACE.test(after) && !NOT_OPENING.includes(after);
}

/** A marker of `length` at `i` closes right after the text, before a space or closing punctuation. */
function closesAt(line: string, i: number, length: number): boolean {
  const before = line[i - 1];
  const after = line[i + length];
  return before !== undefined && !SPACE.test(before) && !NOT_CLOSING.includes(before) && (after === undefined || SPACE.test(after) || CLOSE_BEFORE.includes(after));
}

/** Adds text, joined to the text before it. */
function pushText(out: Inline[], text: string): void {
  const last = out[out.length - 1];
  if (last?.kind === 'text') last.text += text;
  else out.push({ kind: 'text', text });
}
