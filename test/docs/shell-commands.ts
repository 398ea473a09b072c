import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The shell commands of the docs: every fenced block tagged sh, bash, shell or console in README.md and
 * docs/*.md, cut into commands the way a shell reads them (quotes, backslash continuations, `#` comments),
 * each with the comment lines right after it, which say what it answers.
 */

export const ROOT = path.resolve(__dirname, '..', '..');

export const PAGES = [
  'README.md',
  'CONTRIBUTING.md',
  'SECURITY.md',
  ...readdirSync(path.join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
];

const SHELL_TAGS = new Set(['sh', 'bash', 'shell', 'console']);

export interface Fence {
  page: string;
  /** Line of the opening fence, 1-based. */
  line: number;
  tag: string;
  body: string;
}

export function fencesOf(page: string, markdown: string): Fence[] {
  const fences: Fence[] = [];
  const lines = markdown.split('\n');
  let open: { line: number; tag: string; indent: number; body: string[] } | undefined;
  lines.forEach((text, index) => {
    const fence = /^(\s*)```(\S*)\s*$/.exec(text);
    if (open === undefined) {
      if (fence) open = { line: index + 1, tag: fence[2] ?? '', indent: (fence[1] ?? '').length, body: [] };
    } else if (fence) {
      fences.push({ page, line: open.line, tag: open.tag, body: open.body.join('\n') });
      open = undefined;
    } else {
      // A fence inside a list item is indented; its lines are the block's lines without that indent.
      open.body.push(text.slice(Math.min(open.indent, text.length - text.trimStart().length)));
    }
  });
  return fences;
}

export function isShellFence(fence: Fence): boolean {
  return SHELL_TAGS.has(fence.tag);
}

export interface DocCommand {
  page: string;
  /** Line of the command's first line in the page, 1-based. */
  line: number;
  /** As written, continuations and all: what the shell runs. */
  text: string;
  /** The comment on its last line and the comment lines right after it, joined by spaces. */
  comment: string;
}

/** Cuts a shell block into commands: a newline outside quotes and not escaped ends one. */
export function commandsOf(fence: Fence): DocCommand[] {
  const commands: DocCommand[] = [];
  const source = fence.body;
  let current = '';
  let comment = '';
  let quote: "'" | '"' | undefined;
  let line = fence.line + 1;
  let startLine = line;
  /** The last command, while comment-only lines right after it still belong to it. */
  let attachTo: DocCommand | undefined;
  const add = (text: string) => {
    if (current.trim() === '' && text.trim() !== '') startLine = line;
    current += text;
    line += text.split('\n').length - 1;
  };
  for (let i = 0; i < source.length; i += 1) {
    const c = source[i] as string;
    if (quote === "'") {
      add(c);
      if (c === "'") quote = undefined;
    } else if (quote === '"') {
      if (c === '\\' && i + 1 < source.length) add(c + source[++i]);
      else {
        add(c);
        if (c === '"') quote = undefined;
      }
    } else if (c === '\\' && i + 1 < source.length) {
      add(c + source[++i]);
    } else if (c === "'" || c === '"') {
      quote = c;
      add(c);
    } else if (c === '#' && (current === '' || /\s$/.test(current))) {
      let end = source.indexOf('\n', i);
      if (end === -1) end = source.length;
      comment += `${comment ? ' ' : ''}${source.slice(i + 1, end).trim()}`;
      i = end - 1;
    } else if (c === '\n') {
      finish();
      line += 1;
    } else {
      add(c);
    }
  }
  finish();
  return commands;

  function finish(): void {
    const text = current.trim();
    if (text !== '') {
      const command = { page: fence.page, line: startLine, text, comment };
      commands.push(command);
      attachTo = command;
    } else if (comment !== '' && attachTo !== undefined) {
      attachTo.comment += `${attachTo.comment ? ' ' : ''}${comment}`;
    } else {
      // A blank line (or a comment before any command) ends what the last command's comments say.
      attachTo = undefined;
    }
    current = '';
    comment = '';
  }
}

/**
 * The simple commands of a command line (split at unquoted `;`, `&&`, `||`, `|`), each as words with
 * quotes kept; leading `NAME=value` assignments are split off.
 */
export function simpleCommands(text: string): { assignments: string[]; words: string[] }[] {
  const result: { assignments: string[]; words: string[] }[] = [];
  let words: string[] = [];
  let word = '';
  let quote: "'" | '"' | undefined;
  let depth = 0;
  const endWord = () => {
    if (word !== '') words.push(word);
    word = '';
  };
  const endCommand = () => {
    endWord();
    const firstProgram = words.findIndex((w) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(w));
    const split = firstProgram === -1 ? words.length : firstProgram;
    if (words.length > 0) result.push({ assignments: words.slice(0, split), words: words.slice(split) });
    words = [];
  };
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i] as string;
    if (quote) {
      word += c;
      if (c === '\\' && quote === '"') word += text[++i] ?? '';
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '$' && text[i + 1] === '(') {
      depth += 1;
      word += '$(';
      i += 1;
    } else if (c === ')' && depth > 0) {
      depth -= 1;
      word += c;
    } else if (depth > 0) {
      word += c;
      if (c === "'" || c === '"') quote = c;
    } else if (c === '\\') {
      if (text[i + 1] === '\n') i += 1;
      else word += c + (text[++i] ?? '');
    } else if (c === "'" || c === '"') {
      quote = c;
      word += c;
    } else if (/\s/.test(c)) {
      endWord();
    } else if (c === ';' || c === '|' || (c === '&' && text[i + 1] === '&')) {
      if (text[i + 1] === c) i += 1;
      endCommand();
    } else {
      word += c;
    }
  }
  endCommand();
  return result;
}

/** Every command of every shell block of the pages, in page order. */
export function docCommands(pages: readonly string[] = PAGES): DocCommand[] {
  return pages.flatMap((page) =>
    fencesOf(page, readFileSync(path.join(ROOT, page), 'utf8'))
      .filter(isShellFence)
      .flatMap(commandsOf),
  );
}

/** The fences that are not tagged as shell but hold a line that starts like a command. */
export function untaggedCommandFences(pages: readonly string[] = PAGES): Fence[] {
  return pages.flatMap((page) =>
    fencesOf(page, readFileSync(path.join(ROOT, page), 'utf8')).filter(
      (fence) =>
        !isShellFence(fence) &&
        /^\s*(\$ |curl |npm |npx |aws |serverless |export |[A-Z_]+=\S* )/m.test(fence.body),
    ),
  );
}

/**
 * What the comment after a command says it answers: a status when the comment starts with one
 * (`# 302 to ./`, `# 400 {...}`), and a JSON fragment when it starts (after the status) with `{` or `[`.
 */
export function expectationOf(comment: string): { status?: number; fragment?: string } {
  let rest = comment.trim();
  const status = /^([1-5]\d\d)\b[:\s]*/.exec(rest);
  if (status) rest = rest.slice(status[0].length);
  const fragment = /^[{[]/.test(rest) ? balanced(rest) : undefined;
  return {
    ...(status ? { status: Number(status[1]) } : {}),
    ...(fragment ? { fragment } : {}),
  };
}

/** The text up to where the first bracket closes (strings skipped). */
function balanced(text: string): string {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i += 1;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth += 1;
    else if (c === '}' || c === ']') {
      depth -= 1;
      if (depth === 0) return text.slice(0, i + 1);
    }
  }
  return text;
}

/** The keys a fragment names, and the string values it shows that are neither elided (`...`) nor times. */
export function fragmentFacts(fragment: string): { keys: string[]; strings: string[] } {
  const keys = new Set<string>();
  const strings = new Set<string>();
  for (let i = 0; i < fragment.length; i += 1) {
    if (fragment[i] !== '"') continue;
    let end = i + 1;
    while (end < fragment.length && fragment[end] !== '"') end += fragment[end] === '\\' ? 2 : 1;
    const text = fragment.slice(i + 1, end);
    const isKey = /^\s*:/.test(fragment.slice(end + 1));
    if (isKey && text !== '...') keys.add(text);
    else if (!isKey && !text.includes('...') && !/^\d{4}-\d\d-\d\d/.test(text)) strings.add(text);
    i = end;
  }
  return { keys: [...keys], strings: [...strings] };
}

/** Every key and every string value anywhere in a JSON value. */
export function jsonFacts(value: unknown, facts = { keys: new Set<string>(), strings: new Set<string>() }) {
  if (typeof value === 'string') facts.strings.add(value);
  else if (Array.isArray(value)) for (const item of value) jsonFacts(item, facts);
  else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      facts.keys.add(key);
      jsonFacts(item, facts);
    }
  }
  return facts;
}
