import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LokiEntry } from '../lib/loki/types';
import { DAY_MS, NS_PER_MS } from '../lib/time';

/**
 * A local server speaking Loki's HTTP API, for `npm start`, tests and the benchmark. It follows what a real
 * Loki 3.x does where our client depends on it (see ../shared/spec/loki-behaviour.md): `query_range` with
 * start inclusive / end exclusive, `limit` cutting pages silently, `direction`, the two 400s for limits,
 * plain-text errors, structured metadata merged into stream labels, anchored regular expressions, a missing
 * label comparing as "". Its LogQL is a subset: a stream selector, line filters and label filters (with
 * `and`, `or`, `,` and parentheses), `| keep` and `| drop` with label names (applied after every filter,
 * whatever their place); `| json` and `| logfmt` are accepted and ignored. As Loki 3.7.6 does (measured
 * by the real-Loki suite, test/real-loki), streams of an answer are ordered by their labels, pushed entries
 * gain a `detected_level` structured metadata label, and an entry repeating one held is kept once.
 */

export interface LokiServerOptions {
  entries?: LokiEntry[];
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  maxEntriesLimitPerQuery?: number;
  maxQueryLengthMs?: number;
  /** Basic (`user`:`token`) or Bearer (`token`) required on every API call when set. */
  requireAuth?: { user?: string; token: string };
  /** Labels reported as index labels (the rest as structured metadata) with `categorize-labels`. */
  indexLabels?: string[];
}

export interface RecordedRequest {
  method: string;
  path: string;
  params: URLSearchParams;
  headers: IncomingHttpHeaders;
}

export interface LokiServer {
  url: string;
  add(entries: LokiEntry[]): void;
  requests: RecordedRequest[];
  /** The next `times` API calls answer `status` with a plain-text `body` (and `headers`, e.g. Retry-After). */
  failNext(status: number, times?: number, body?: string, headers?: Record<string, string>): void;
  /** The next `times` API calls wait `ms` before answering. */
  delayNext(ms: number, times?: number): void;
  close(): Promise<void>;
}

const DEFAULT_MAX_ENTRIES = 5000;
/** Loki's default `max_query_length`: 30d1h. */
const DEFAULT_MAX_QUERY_LENGTH_MS = (30 * 24 + 1) * 3_600_000;
const DEFAULT_LIMIT = 100;
const DEFAULT_SINCE_NS = 3_600_000_000_000n;
/** The label APIs look back 6 hours when no start is given. */
const LABELS_DEFAULT_SINCE_NS = 6n * DEFAULT_SINCE_NS;

// =============================================================================================
// LogQL subset

export class LogqlParseError extends Error {
  override name = 'LogqlParseError';
}

type MatchOp = '=' | '!=' | '=~' | '!~';
interface LabelMatcher {
  name: string;
  op: MatchOp;
  value: string;
  test: (actual: string) => boolean;
}
type LabelExpr =
  | { type: 'matcher'; matcher: LabelMatcher }
  | { type: 'and' | 'or'; left: LabelExpr; right: LabelExpr };
interface LineFilter {
  op: '|=' | '!=' | '|~' | '!~';
  test: (line: string) => boolean;
}
export interface LogqlQuery {
  selector: LabelMatcher[];
  labelFilters: LabelExpr[];
  lineFilters: LineFilter[];
  /** `| keep a, b` and `| drop c`: which labels the answer shows (applied after every filter). */
  keep?: string[];
  drop?: string[];
}

type TokenType = 'ident' | 'string' | 'op' | 'eof';
interface Token {
  type: TokenType;
  text: string;
  value: string;
  col: number;
}

const OPERATORS = ['|=', '|~', '!=', '!~', '=~', '=', '|', '{', '}', '(', ')', ','];

function parseError(col: number, message: string): LogqlParseError {
  return new LogqlParseError(`parse error at line 1, col ${col}: ${message}`);
}

/** Go's strconv.Unquote for a double-quoted literal starting at `query[start]`. */
function readQuoted(query: string, start: number): { value: string; end: number } {
  let value = '';
  let i = start + 1;
  while (i < query.length) {
    const char = query[i] as string;
    if (char === '"') return { value, end: i + 1 };
    if (char === '\n') break;
    if (char !== '\\') {
      value += char;
      i += 1;
      continue;
    }
    const escaped = query[i + 1];
    const simple: Record<string, string> = {
      n: '\n',
      t: '\t',
      r: '\r',
      b: '\b',
      f: '\f',
      v: '\v',
      a: '\x07',
      '\\': '\\',
      '"': '"',
      "'": "'",
    };
    if (escaped !== undefined && escaped in simple) {
      value += simple[escaped];
      i += 2;
    } else if (escaped === 'x' || escaped === 'u' || escaped === 'U') {
      const digits = escaped === 'x' ? 2 : escaped === 'u' ? 4 : 8;
      const hex = query.slice(i + 2, i + 2 + digits);
      if (!new RegExp(`^[0-9a-fA-F]{${digits}}$`).test(hex)) throw parseError(start + 1, 'invalid syntax');
      value += String.fromCodePoint(Number.parseInt(hex, 16));
      i += 2 + digits;
    } else if (escaped !== undefined && /[0-7]/.test(escaped)) {
      const octal = query.slice(i + 1, i + 4);
      if (!/^[0-7]{3}$/.test(octal)) throw parseError(start + 1, 'invalid syntax');
      value += String.fromCharCode(Number.parseInt(octal, 8));
      i += 4;
    } else {
      throw parseError(start + 1, 'invalid syntax');
    }
  }
  throw parseError(start + 1, 'literal not terminated');
}

function tokenize(query: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < query.length) {
    const char = query[i] as string;
    if (/\s/.test(char)) {
      i += 1;
      continue;
    }
    const col = i + 1;
    if (char === '"') {
      const { value, end } = readQuoted(query, i);
      tokens.push({ type: 'string', text: query.slice(i, end), value, col });
      i = end;
      continue;
    }
    if (char === '`') {
      const end = query.indexOf('`', i + 1);
      if (end < 0) throw parseError(col, 'literal not terminated');
      tokens.push({ type: 'string', text: query.slice(i, end + 1), value: query.slice(i + 1, end), col });
      i = end + 1;
      continue;
    }
    const ident = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(query.slice(i, i + 256));
    if (ident) {
      tokens.push({ type: 'ident', text: ident[0], value: ident[0], col });
      i += ident[0].length;
      continue;
    }
    const operator = OPERATORS.find((op) => query.startsWith(op, i));
    if (operator === undefined)
      throw parseError(col, `syntax error: unexpected character ${JSON.stringify(char)}`);
    tokens.push({ type: 'op', text: operator, value: operator, col });
    i += operator.length;
  }
  tokens.push({ type: 'eof', text: '', value: '', col: query.length + 1 });
  return tokens;
}

/** An RE2 pattern as a JS RegExp; Loki's label matchers are fully anchored (`^(?s:re)$`). */
export function re2(pattern: string, anchored: boolean, col: number): RegExp {
  let source = pattern;
  let flags = anchored ? 's' : '';
  const inline = /^\(\?([imsU]+)\)/.exec(source);
  if (inline) {
    source = source.slice(inline[0].length);
    if (inline[1]?.includes('i')) flags += 'i';
    if (inline[1]?.includes('s') && !flags.includes('s')) flags += 's';
  }
  source = source.replace(/\(\?P</g, '(?<');
  try {
    return new RegExp(anchored ? `^(?:${source})$` : source, `${flags}u`);
  } catch {
    try {
      return new RegExp(anchored ? `^(?:${source})$` : source, flags);
    } catch (error) {
      throw parseError(col, `error parsing regexp: ${(error as Error).message}`);
    }
  }
}

function labelMatcher(name: string, op: MatchOp, value: string, col: number): LabelMatcher {
  let test: (actual: string) => boolean;
  if (op === '=') test = (actual) => actual === value;
  else if (op === '!=') test = (actual) => actual !== value;
  else {
    const regex = re2(value, true, col);
    test = op === '=~' ? (actual) => regex.test(actual) : (actual) => !regex.test(actual);
  }
  return { name, op, value, test };
}

function lineFilter(op: LineFilter['op'], value: string, col: number): LineFilter {
  if (op === '|=') return { op, test: (line) => line.includes(value) };
  if (op === '!=') return { op, test: (line) => !line.includes(value) };
  const regex = re2(value, false, col);
  return op === '|~' ? { op, test: (line) => regex.test(line) } : { op, test: (line) => !regex.test(line) };
}

export function parseLogql(query: string): LogqlQuery {
  const tokens = tokenize(query);
  let position = 0;
  const peek = (): Token => tokens[position] as Token;
  const next = (): Token => tokens[position++] as Token;
  const unexpected = (token: Token, expecting: string) =>
    parseError(
      token.col,
      `syntax error: unexpected ${token.type === 'eof' ? '$end' : token.text}, expecting ${expecting}`,
    );
  const expectOp = (text: string) => {
    const token = next();
    if (token.type !== 'op' || token.text !== text) throw unexpected(token, text);
  };
  const matcher = (): LabelMatcher => {
    const name = next();
    if (name.type !== 'ident') throw unexpected(name, 'IDENTIFIER');
    const op = next();
    if (op.type !== 'op' || !['=', '!=', '=~', '!~'].includes(op.text))
      throw unexpected(op, '= or != or =~ or !~');
    const value = next();
    if (value.type !== 'string') throw unexpected(value, 'STRING');
    return labelMatcher(name.value, op.text as MatchOp, value.value, value.col);
  };

  expectOp('{');
  const selector: LabelMatcher[] = [];
  if (peek().text === '}') throw unexpected(peek(), 'IDENTIFIER');
  for (;;) {
    selector.push(matcher());
    const token = next();
    if (token.type === 'op' && token.text === '}') break;
    if (token.type !== 'op' || token.text !== ',') throw unexpected(token, ', or }');
  }
  if (selector.every((m) => m.test(''))) {
    throw new LogqlParseError(
      'parse error : queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~".*" does not meet this requirement, but app=~".+" will',
    );
  }

  const labelOr = (): LabelExpr => {
    let left = labelAnd();
    while (peek().type === 'ident' && peek().value === 'or') {
      next();
      left = { type: 'or', left, right: labelAnd() };
    }
    return left;
  };
  const labelAnd = (): LabelExpr => {
    let left = labelPrimary();
    for (;;) {
      const token = peek();
      if ((token.type === 'op' && token.text === ',') || (token.type === 'ident' && token.value === 'and')) {
        next();
        left = { type: 'and', left, right: labelPrimary() };
      } else {
        return left;
      }
    }
  };
  const labelPrimary = (): LabelExpr => {
    if (peek().type === 'op' && peek().text === '(') {
      next();
      const inner = labelOr();
      expectOp(')');
      return inner;
    }
    return { type: 'matcher', matcher: matcher() };
  };

  const labelFilters: LabelExpr[] = [];
  const lineFilters: LineFilter[] = [];
  let keep: string[] | undefined;
  let drop: string[] | undefined;
  while (peek().type !== 'eof') {
    const token = next();
    if (token.type === 'op' && ['|=', '|~', '!=', '!~'].includes(token.text)) {
      const value = next();
      if (value.type !== 'string') throw unexpected(value, 'STRING');
      lineFilters.push(lineFilter(token.text as LineFilter['op'], value.value, value.col));
    } else if (token.type === 'op' && token.text === '|') {
      const stage = peek();
      if (stage.type === 'ident' && (stage.value === 'json' || stage.value === 'logfmt')) {
        next();
      } else if (stage.type === 'ident' && (stage.value === 'keep' || stage.value === 'drop')) {
        next();
        const names: string[] = [];
        for (;;) {
          const name = next();
          if (name.type !== 'ident') throw unexpected(name, 'IDENTIFIER');
          names.push(name.value);
          if (peek().text !== ',') break;
          next();
        }
        if (stage.value === 'keep') keep = [...(keep ?? []), ...names];
        else drop = [...(drop ?? []), ...names];
      } else {
        labelFilters.push(labelOr());
      }
    } else {
      throw unexpected(token, '| or |= or != or |~ or !~');
    }
  }
  return {
    selector,
    labelFilters,
    lineFilters,
    ...(keep === undefined ? {} : { keep }),
    ...(drop === undefined ? {} : { drop }),
  };
}

/** The labels an answer shows after `keep` / `drop`. */
function shownLabels(query: LogqlQuery, labels: Record<string, string>): Record<string, string> {
  if (query.keep === undefined && query.drop === undefined) return labels;
  const shown: Record<string, string> = {};
  for (const [name, value] of Object.entries(labels)) {
    if (query.keep !== undefined && !query.keep.includes(name)) continue;
    if (query.drop?.includes(name)) continue;
    shown[name] = value;
  }
  return shown;
}

/** Whether a stream with these labels passes the selector and every label filter of `query`. */
export function matchesLabels(query: LogqlQuery, labels: Record<string, string>): boolean {
  return (
    query.selector.every((m) => m.test(labels[m.name] ?? '')) &&
    query.labelFilters.every((expr) => evaluate(expr, labels))
  );
}

function evaluate(expr: LabelExpr, labels: Record<string, string>): boolean {
  if (expr.type === 'matcher') return expr.matcher.test(labels[expr.matcher.name] ?? '');
  if (expr.type === 'and') return evaluate(expr.left, labels) && evaluate(expr.right, labels);
  return evaluate(expr.left, labels) || evaluate(expr.right, labels);
}

// =============================================================================================
// durations and timestamps as Loki writes and reads them

/** Go's time.Duration String(), e.g. 1416h0m0s. */
export function goDuration(ns: bigint): string {
  if (ns === 0n) return '0s';
  const sign = ns < 0n ? '-' : '';
  const abs = ns < 0n ? -ns : ns;
  if (abs < 1_000_000_000n) {
    if (abs < 1_000n) return `${sign}${abs}ns`;
    const [unit, per] = abs < 1_000_000n ? ['µs', 1_000n] : ['ms', NS_PER_MS];
    return `${sign}${trimFraction(abs, per)}${unit}`;
  }
  const hours = abs / 3_600_000_000_000n;
  const minutes = (abs / 60_000_000_000n) % 60n;
  const seconds = trimFraction(abs % 60_000_000_000n, 1_000_000_000n);
  if (hours > 0n) return `${sign}${hours}h${minutes}m${seconds}s`;
  if (minutes > 0n) return `${sign}${minutes}m${seconds}s`;
  return `${sign}${seconds}s`;
}

function trimFraction(value: bigint, per: bigint): string {
  const whole = value / per;
  const fraction = value % per;
  if (fraction === 0n) return String(whole);
  const digits = String(per).length - 1;
  return `${whole}.${String(fraction).padStart(digits, '0').replace(/0+$/, '')}`;
}

/** Prometheus' model.Duration String(), e.g. 30d1h (years and weeks only when exact). */
export function promDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = Math.round(ms);
  let text = '';
  const units: Array<[string, number, boolean]> = [
    ['y', 365 * DAY_MS, true],
    ['w', 7 * DAY_MS, true],
    ['d', DAY_MS, false],
    ['h', 3_600_000, false],
    ['m', 60_000, false],
    ['s', 1000, false],
    ['ms', 1, false],
  ];
  for (const [unit, size, exact] of units) {
    if (exact && rest % size !== 0) continue;
    const count = Math.floor(rest / size);
    if (count > 0) {
      text += `${count}${unit}`;
      rest -= count * size;
    }
  }
  return text;
}

/** Loki's parseTimestamp: float seconds, integer seconds (<= 10 digits), integer ns, or RFC 3339. */
export function parseLokiTimestamp(value: string): bigint | undefined {
  if (value.includes('.') && /^-?\d+\.\d*$/.test(value)) {
    const [whole = '0', fraction = ''] = value.split('.');
    return BigInt(whole) * 1_000_000_000n + BigInt(fraction.padEnd(9, '0').slice(0, 9) || '0');
  }
  if (/^-?\d+$/.test(value)) {
    return value.replace('-', '').length <= 10 ? BigInt(value) * 1_000_000_000n : BigInt(value);
  }
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/i.exec(value);
  if (!match) return undefined;
  const ms = Date.parse(`${match[1]}${match[3]}`);
  if (Number.isNaN(ms)) return undefined;
  return BigInt(ms) * NS_PER_MS + BigInt((match[2] ?? '').padEnd(9, '0'));
}

// =============================================================================================
// storage

interface LabelSet {
  id: number;
  labels: Record<string, string>;
  /** Index labels as pushed; otherwise the labels named in `indexLabels` (see `categorized`). */
  pushedIndex: Record<string, string> | undefined;
  /** Index labels, the rest as structured metadata, for `categorize-labels` answers; built on first use. */
  categorized?: { index: Record<string, string>; metadata: Record<string, string>; indexKey: string };
}

interface StoredEntry {
  ns: bigint;
  timestampNs: string;
  line: string;
  labelSet: LabelSet;
}

class EntryStore {
  private readonly labelSets = new Map<string, LabelSet>();
  private entries: StoredEntry[] = [];
  private sorted = true;

  constructor(private readonly indexLabels: ReadonlySet<string>) {}

  categorized(labelSet: LabelSet): NonNullable<LabelSet['categorized']> {
    if (labelSet.categorized === undefined) {
      const index: Record<string, string> = {};
      const metadata: Record<string, string> = {};
      for (const [name, value] of Object.entries(labelSet.labels)) {
        const isIndex = labelSet.pushedIndex ? name in labelSet.pushedIndex : this.indexLabels.has(name);
        (isIndex ? index : metadata)[name] = value;
      }
      labelSet.categorized = { index, metadata, indexKey: JSON.stringify(index) };
    }
    return labelSet.categorized;
  }

  add(
    labels: Record<string, string>,
    timestampNs: string,
    line: string,
    index?: Record<string, string>,
  ): void {
    const names = Object.keys(labels).sort();
    let key = '';
    for (const name of names) key += `${name}\u0000${labels[name]}\u0001`;
    let labelSet = this.labelSets.get(key);
    if (labelSet === undefined) {
      const sortedLabels: Record<string, string> = {};
      for (const name of names) sortedLabels[name] = labels[name] as string;
      labelSet = { id: this.labelSets.size, labels: sortedLabels, pushedIndex: index };
      this.labelSets.set(key, labelSet);
    }
    const ns = BigInt(timestampNs);
    const last = this.entries[this.entries.length - 1];
    // An entry on the newest one's nanosecond may repeat an entry held: sorting drops repeats too.
    if (last !== undefined && last.ns >= ns) this.sorted = false;
    this.entries.push({ ns, timestampNs: String(ns), line, labelSet });
  }

  /** Entries in [start, end) matching `query`, at most `limit`, newest first unless `forward`. */
  select(query: LogqlQuery, start: bigint, end: bigint, limit: number, forward: boolean): StoredEntry[] {
    this.ensureSorted();
    const from = this.lowerBound(start);
    const to = this.lowerBound(end);
    const verdicts = new Int8Array(this.labelSets.size); // 0 unknown, 1 match, -1 no match
    const matches = (entry: StoredEntry): boolean => {
      const id = entry.labelSet.id;
      let verdict = verdicts[id];
      if (verdict === 0) {
        verdict = matchesLabels(query, entry.labelSet.labels) ? 1 : -1;
        verdicts[id] = verdict;
      }
      return verdict === 1 && query.lineFilters.every((filter) => filter.test(entry.line));
    };
    const selected: StoredEntry[] = [];
    if (forward) {
      for (let i = from; i < to && selected.length < limit; i += 1) {
        const entry = this.entries[i] as StoredEntry;
        if (matches(entry)) selected.push(entry);
      }
    } else {
      for (let i = to - 1; i >= from && selected.length < limit; i -= 1) {
        const entry = this.entries[i] as StoredEntry;
        if (matches(entry)) selected.push(entry);
      }
    }
    return selected;
  }

  /**
   * Values of the index label `name` on streams with entries in [start, end) whose index labels match the
   * selector, sorted (Loki's label-values API looks at index labels only).
   */
  labelValues(name: string, selector: LogqlQuery['selector'], start: bigint, end: bigint): string[] {
    this.ensureSorted();
    const values = new Set<string>();
    const seen = new Set<number>();
    for (let i = this.lowerBound(start); i < this.lowerBound(end); i += 1) {
      const { labelSet } = this.entries[i] as StoredEntry;
      if (seen.has(labelSet.id)) continue;
      seen.add(labelSet.id);
      const { index } = this.categorized(labelSet);
      const value = index[name];
      if (value !== undefined && selector.every((m) => m.test(index[m.name] ?? ''))) values.add(value);
    }
    return [...values].sort();
  }

  labelNames(): string[] {
    const names = new Set<string>();
    for (const labelSet of this.labelSets.values())
      for (const name of Object.keys(labelSet.labels)) names.add(name);
    return [...names].sort();
  }

  private ensureSorted(): void {
    if (this.sorted) return;
    // Stable: entries on the same nanosecond keep their arrival order.
    this.entries.sort((a, b) => (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0));
    // As Loki 3.7.6 does (test/real-loki/outbox.test.ts), an entry repeating one held, same labels and
    // structured metadata, nanosecond and line, is kept once: a retried push adds nothing.
    let kept = 0;
    for (const entry of this.entries) {
      let repeat = false;
      for (let j = kept - 1; j >= 0; j -= 1) {
        const held = this.entries[j] as StoredEntry;
        if (held.ns !== entry.ns) break;
        if (held.labelSet === entry.labelSet && held.line === entry.line) {
          repeat = true;
          break;
        }
      }
      if (!repeat) this.entries[kept++] = entry;
    }
    this.entries.length = kept;
    this.sorted = true;
  }

  private lowerBound(ns: bigint): number {
    let low = 0;
    let high = this.entries.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.entries[middle] as StoredEntry).ns < ns) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}

// =============================================================================================
// HTTP

class BadRequest extends Error {}

function streamsBody(
  entries: StoredEntry[],
  query: LogqlQuery,
  store: EntryStore,
  categorize: boolean,
): unknown {
  const projects = query.keep !== undefined || query.drop !== undefined;
  const projections = new Map<number, { key: string; labels: Record<string, string> }>();
  const streams = new Map<string, { stream: Record<string, string>; values: unknown[] }>();
  for (const entry of entries) {
    const labelSet = entry.labelSet;
    let stream: { stream: Record<string, string>; values: unknown[] } | undefined;
    if (categorize) {
      const categorized = store.categorized(labelSet);
      const index = shownLabels(query, categorized.index);
      const key = projects ? JSON.stringify(index) : categorized.indexKey;
      stream = streams.get(key);
      if (stream === undefined) {
        stream = { stream: index, values: [] };
        streams.set(key, stream);
      }
      const metadata = shownLabels(query, categorized.metadata);
      stream.values.push([entry.timestampNs, entry.line, { structuredMetadata: metadata }]);
      continue;
    }
    let projection = projections.get(labelSet.id);
    if (projection === undefined) {
      const labels = shownLabels(query, labelSet.labels);
      projection = { key: projects ? JSON.stringify(labels) : String(labelSet.id), labels };
      projections.set(labelSet.id, projection);
    }
    stream = streams.get(projection.key);
    if (stream === undefined) {
      stream = { stream: projection.labels, values: [] };
      streams.set(projection.key, stream);
    }
    stream.values.push([entry.timestampNs, entry.line]);
  }
  return {
    status: 'success',
    data: {
      resultType: 'streams',
      result: sortedStreams([...streams.values()]),
      stats: {},
      ...(categorize ? { encodingFlags: ['categorize-labels'] } : {}),
    },
  };
}

/** Prometheus' text of a label set (`{a="x", b="y"}`, names sorted), which Loki orders streams by. */
function labelSetText(labels: Record<string, string>): string {
  const names = Object.keys(labels).sort();
  return `{${names.map((name) => `${name}=${JSON.stringify(labels[name])}`).join(', ')}}`;
}

/** Loki 3.7.6 answers the streams of a query_range ordered by their label set's text, byte by byte. */
function sortedStreams<T extends { stream: Record<string, string> }>(streams: T[]): T[] {
  const keyed = streams.map((stream) => ({ stream, key: Buffer.from(labelSetText(stream.stream)) }));
  return keyed.sort((a, b) => Buffer.compare(a.key, b.key)).map(({ stream }) => stream);
}

// =============================================================================================
// detected_level: what Loki 3.7.6 (discover_log_levels, on by default) adds to every pushed entry

const LEVEL_NAMES = new Set([
  'level',
  'LEVEL',
  'Level',
  'severity',
  'SEVERITY',
  'Severity',
  'lvl',
  'LVL',
  'Lvl',
]);
const LEVEL_ALIASES: Record<string, string> = {
  trace: 'trace',
  trc: 'trace',
  debug: 'debug',
  dbg: 'debug',
  info: 'info',
  inf: 'info',
  warn: 'warn',
  wrn: 'warn',
  warning: 'warn',
  error: 'error',
  err: 'error',
  critical: 'critical',
  fatal: 'fatal',
};
/** Checked in this order, each as a whole word of the lower-cased line. */
const LEVEL_WORDS: Array<[string, string]> = [
  ['trace', 'trace'],
  ['debug', 'debug'],
  ['fatal', 'fatal'],
  ['critical', 'critical'],
  ['error', 'error'],
  ['err', 'error'],
  ['warning', 'warn'],
  ['warn', 'warn'],
  ['info', 'info'],
];

function levelField(value: unknown, depth = 0): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || depth > 10) return undefined;
  for (const [name, field] of Object.entries(value)) {
    if (LEVEL_NAMES.has(name) && typeof field === 'string') return field;
  }
  for (const field of Object.values(value)) {
    const nested = levelField(field, depth + 1);
    if (nested !== undefined) return nested;
  }
  return undefined;
}

function levelInText(line: string): string {
  const lower = line.toLowerCase();
  const wordAt = (index: number) =>
    index >= 0 && index < lower.length && /[\p{L}\p{N}_]/u.test(lower[index] as string);
  for (const [word, level] of LEVEL_WORDS) {
    const at = lower.indexOf(word);
    if (at >= 0 && !wordAt(at - 1) && !wordAt(at + word.length)) return level;
  }
  return 'unknown';
}

/**
 * The level Loki detects for a pushed entry: a level label or structured metadata as it is, else a level
 * field of a JSON line (at any depth) or of a logfmt line, else a level word in the line; `unknown` when none.
 */
export function detectedLevel(labels: Record<string, string>, line: string): string {
  for (const name of LEVEL_NAMES) if (labels[name]) return labels[name] as string;
  let field: string | undefined;
  const trimmed = line.trim();
  if (trimmed.startsWith('{') && trimmed.endsWith('}')) {
    try {
      field = levelField(JSON.parse(trimmed));
    } catch {
      field = undefined;
    }
  } else if (line.includes('=')) {
    for (const match of line.matchAll(/([^\s=]+)=("([^"]*)"|\S*)/g)) {
      if (LEVEL_NAMES.has(match[1] as string)) {
        field = match[3] ?? match[2];
        break;
      }
    }
  }
  return (field !== undefined && LEVEL_ALIASES[field.toLowerCase()]) || levelInText(line);
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function authorized(
  headers: IncomingHttpHeaders,
  auth: NonNullable<LokiServerOptions['requireAuth']>,
): boolean {
  const header = headers.authorization ?? '';
  if (header === `Bearer ${auth.token}`) return true;
  if (!header.startsWith('Basic ')) return false;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  return colon >= 0 && password === auth.token && (auth.user === undefined || user === auth.user);
}

export async function startLokiServer(options: LokiServerOptions = {}): Promise<LokiServer> {
  const maxEntries = options.maxEntriesLimitPerQuery ?? DEFAULT_MAX_ENTRIES;
  const maxQueryLengthMs = options.maxQueryLengthMs ?? DEFAULT_MAX_QUERY_LENGTH_MS;
  const store = new EntryStore(new Set(options.indexLabels ?? ['service_name', 'service_namespace']));
  const requests: RecordedRequest[] = [];
  const failures: Array<{ status: number; body: string; headers: Record<string, string> }> = [];
  const delays: number[] = [];
  const queryCache = new Map<string, LogqlQuery>();

  const add = (entries: LokiEntry[]) => {
    for (const entry of entries) store.add(entry.labels, entry.timestampNs, entry.line);
  };
  add(options.entries ?? []);

  function parseQuery(text: string): LogqlQuery {
    let query = queryCache.get(text);
    if (query === undefined) {
      query = parseLogql(text);
      if (queryCache.size > 1000) queryCache.clear();
      queryCache.set(text, query);
    }
    return query;
  }

  /** `start`/`end` of a request in ns (end defaults to now, start to `sinceNs` before end). */
  function requestedRange(params: URLSearchParams, sinceNs: bigint): { start: bigint; end: bigint } {
    const endParam = params.get('end');
    const end = endParam ? parseLokiTimestamp(endParam) : BigInt(Date.now()) * NS_PER_MS;
    if (end === undefined) throw new BadRequest(`cannot parse "${endParam}" to a valid timestamp`);
    const startParam = params.get('start');
    const start = startParam ? parseLokiTimestamp(startParam) : end - sinceNs;
    if (start === undefined) throw new BadRequest(`cannot parse "${startParam}" to a valid timestamp`);
    return { start, end };
  }

  /** Loki's max_query_length 400, with its wording; 0 sets no limit, as in Loki. */
  function checkQueryLength(start: bigint, end: bigint): void {
    const lengthNs = end - start;
    if (maxQueryLengthMs > 0 && lengthNs > BigInt(maxQueryLengthMs) * NS_PER_MS) {
      throw new BadRequest(
        `the query time range exceeds the limit (query length: ${goDuration(lengthNs)}, limit: ${promDuration(maxQueryLengthMs)})`,
      );
    }
  }

  function queryRange(params: URLSearchParams, categorize: boolean): unknown {
    const queryText = params.get('query');
    if (!queryText) throw new BadRequest('query parameter is required');
    const { start, end } = requestedRange(params, DEFAULT_SINCE_NS);
    if (end < start) throw new BadRequest('end timestamp must not be before or equal to start time');
    const limitParam = params.get('limit');
    const limit = limitParam ? Number(limitParam) : DEFAULT_LIMIT;
    if (!Number.isInteger(limit) || limit <= 0) throw new BadRequest('limit must be a positive value');
    const direction = (params.get('direction') ?? 'backward').toLowerCase();
    if (direction !== 'forward' && direction !== 'backward') throw new BadRequest('invalid direction');

    const query = parseQuery(queryText);
    if (limit > maxEntries) {
      throw new BadRequest(
        `max entries limit per query exceeded, limit > max_entries_limit_per_query (${limit} > ${maxEntries})`,
      );
    }
    checkQueryLength(start, end);
    return streamsBody(
      store.select(query, start, end, limit, direction === 'forward'),
      query,
      store,
      categorize,
    );
  }

  /**
   * `GET /loki/api/v1/label/<name>/values`, as Loki 3.7.6 answers it: `query` may hold label matchers only
   * (anything more is a 400), the range is held to max_query_length like query_range's, and an empty answer
   * has no `data` at all.
   */
  function labelValues(name: string, params: URLSearchParams): unknown {
    const { start, end } = requestedRange(params, LABELS_DEFAULT_SINCE_NS);
    const queryText = params.get('query');
    const query = queryText ? parseQuery(queryText) : undefined;
    if (
      query !== undefined &&
      (query.labelFilters.length > 0 || query.lineFilters.length > 0 || query.keep || query.drop)
    ) {
      throw new BadRequest('only label matchers are supported');
    }
    if (query !== undefined) checkQueryLength(start, end);
    const values = store.labelValues(name, query?.selector ?? [], start, end);
    return values.length > 0 ? { status: 'success', data: values } : { status: 'success' };
  }

  function push(body: string): void {
    let parsed: { streams?: Array<{ stream?: Record<string, string>; values?: unknown[][] }> };
    try {
      parsed = JSON.parse(body);
    } catch {
      throw new BadRequest('loghttp.PushRequest: invalid JSON body');
    }
    for (const stream of parsed.streams ?? []) {
      const index = stream.stream ?? {};
      if (Object.keys(index).length === 0) throw new BadRequest('error parsing labels: stream has no labels');
      for (const value of stream.values ?? []) {
        const [timestampNs, line, metadata] = value as [unknown, unknown, unknown];
        if (typeof timestampNs !== 'string' || !/^\d+$/.test(timestampNs) || typeof line !== 'string') {
          throw new BadRequest('each value must be ["<unix ns>", "<line>", {metadata}?]');
        }
        const labels = { ...(metadata as Record<string, string> | undefined), ...index };
        labels.detected_level ??= detectedLevel(labels, line);
        store.add(labels, timestampNs, line, index);
      }
    }
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://loki.local');
    const method = request.method ?? 'GET';
    const body = method === 'POST' ? await readBody(request) : '';
    const isForm = (request.headers['content-type'] ?? '').includes('application/x-www-form-urlencoded');
    const params = new URLSearchParams(url.searchParams);
    if (isForm) for (const [name, value] of new URLSearchParams(body)) params.append(name, value);
    // Loki 3.7.6 ends /ready and its 404 page with a newline, and the messages of its API errors without.
    const text = (status: number, message: string, headers: Record<string, string> = {}) => {
      response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers }).end(message);
    };

    if (url.pathname === '/ready') return text(200, 'ready\n');
    if (!url.pathname.startsWith('/loki/api/v1/')) return text(404, '404 page not found\n');
    requests.push({ method, path: url.pathname, params, headers: request.headers });

    const delay = delays.shift();
    if (delay !== undefined) await new Promise((resolve) => setTimeout(resolve, delay));
    if (response.destroyed) return;
    const failure = failures.shift();
    if (failure !== undefined) return text(failure.status, failure.body, failure.headers);
    if (options.requireAuth && !authorized(request.headers, options.requireAuth))
      return text(401, 'Unauthorized');

    try {
      if (url.pathname === '/loki/api/v1/query_range' && (method === 'GET' || method === 'POST')) {
        const categorize = String(request.headers['x-loki-response-encoding-flags'] ?? '').includes(
          'categorize-labels',
        );
        const answer = JSON.stringify(queryRange(params, categorize));
        response.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(answer);
        return;
      }
      if (url.pathname === '/loki/api/v1/push' && method === 'POST') {
        if (!(request.headers['content-type'] ?? '').includes('json')) {
          return text(415, 'only application/json pushes are supported by this server');
        }
        push(body);
        response.writeHead(204).end();
        return;
      }
      const labelValuesPath = /^\/loki\/api\/v1\/label\/([^/]+)\/values$/.exec(url.pathname);
      if (labelValuesPath && method === 'GET') {
        const answer = labelValues(decodeURIComponent(labelValuesPath[1] ?? ''), params);
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
        return;
      }
      if (url.pathname === '/loki/api/v1/labels' && method === 'GET') {
        response
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ status: 'success', data: store.labelNames() }));
        return;
      }
      return text(404, '404 page not found\n');
    } catch (error) {
      if (error instanceof BadRequest || error instanceof LogqlParseError) return text(400, error.message);
      return text(500, (error as Error).message);
    }
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500).end(String(error));
    });
  });
  // Longer than any client keep-alive, so a reused connection is never closed under a request in flight.
  server.keepAliveTimeout = 65_000;
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    add,
    requests,
    failNext(status, times = 1, body = `HTTP ${status} from the stand-in Loki`, headers = {}) {
      for (let i = 0; i < times; i += 1) failures.push({ status, body, headers });
    },
    delayNext(ms, times = 1) {
      for (let i = 0; i < times; i += 1) delays.push(ms);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
