/**
 * The part of OTTL (the OpenTelemetry Transformation Language of the collector's transform processor)
 * that deploy/collector/otelcol-config.yaml uses, evaluated on one log record: `set(path, value)` with an
 * optional `where` of `==`/`!=` comparisons joined by `and`; paths `body`, `cache[...]`, `attributes[...]`
 * and `resource.attributes[...]`; string, integer and `nil` literals, lists, and the converters
 * `ParseJSON` and `Concat`. It follows the collector's rules where the configuration relies on them:
 * `set` with a nil value changes nothing, a missing map key reads as nil, indexing what is not a map is
 * an error, and with `error_mode: ignore` a statement that fails is skipped. Anything else in the
 * configuration is a parse error here, so the configuration cannot drift outside what this checks.
 */

export type OttlValue = string | number | boolean | null | OttlMap | OttlValue[];
export interface OttlMap {
  [key: string]: OttlValue;
}

export interface LogRecordState {
  body: string;
  attributes: OttlMap;
  resource: OttlMap;
  cache: OttlMap;
}

type Expression =
  | { kind: 'literal'; value: OttlValue }
  | { kind: 'path'; root: 'body' | 'cache' | 'attributes' | 'resource.attributes'; keys: string[] }
  | { kind: 'call'; name: 'ParseJSON' | 'Concat'; args: Expression[] }
  | { kind: 'list'; items: Expression[] };

interface Comparison {
  left: Expression;
  operator: '==' | '!=';
  right: Expression;
}

export interface Statement {
  text: string;
  target: Extract<Expression, { kind: 'path' }>;
  value: Expression;
  conditions: Comparison[];
}

const TOKEN =
  /\s*(?:(?<string>"(?:[^"\\]|\\.)*")|(?<number>-?\d+)|(?<word>[A-Za-z_][A-Za-z0-9_.]*)|(?<symbol>==|!=|[()[\],]))/y;

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    if (/^\s*$/.test(text.slice(TOKEN.lastIndex))) break;
    const match = TOKEN.exec(text);
    if (match?.groups === undefined) throw new Error(`OTTL subset: cannot read ${JSON.stringify(text)}`);
    const token = match.groups.string ?? match.groups.number ?? match.groups.word ?? match.groups.symbol;
    if (token !== undefined) tokens.push(token);
  }
  return tokens;
}

class Parser {
  private position = 0;

  constructor(
    private readonly tokens: string[],
    private readonly text: string,
  ) {}

  private fail(message: string): never {
    throw new Error(`OTTL subset: ${message} in ${JSON.stringify(this.text)}`);
  }

  private peek(): string | undefined {
    return this.tokens[this.position];
  }

  private next(): string {
    const token = this.tokens[this.position++];
    if (token === undefined) this.fail('unexpected end');
    return token;
  }

  private expect(token: string): void {
    const found = this.next();
    if (found !== token) this.fail(`expected ${token}, found ${found}`);
  }

  statement(): Statement {
    const editor = this.next();
    if (editor !== 'set') this.fail(`editor ${editor} is not supported`);
    this.expect('(');
    const target = this.expression();
    if (target.kind !== 'path' || target.root === 'body') this.fail('set needs a map path as its target');
    this.expect(',');
    const value = this.expression();
    this.expect(')');
    const conditions: Comparison[] = [];
    if (this.peek() === 'where') {
      this.next();
      conditions.push(this.comparison());
      while (this.peek() === 'and') {
        this.next();
        conditions.push(this.comparison());
      }
    }
    if (this.peek() !== undefined) this.fail(`unexpected ${this.peek()}`);
    return { text: this.text, target, value, conditions };
  }

  private comparison(): Comparison {
    const left = this.expression();
    const operator = this.next();
    if (operator !== '==' && operator !== '!=') this.fail(`operator ${operator} is not supported`);
    return { left, operator, right: this.expression() };
  }

  private expression(): Expression {
    const token = this.next();
    if (token.startsWith('"')) return { kind: 'literal', value: JSON.parse(token) as string };
    if (/^-?\d+$/.test(token)) return { kind: 'literal', value: Number(token) };
    if (token === 'nil') return { kind: 'literal', value: null };
    if (token === '[') {
      const items = [this.expression()];
      while (this.peek() === ',') {
        this.next();
        items.push(this.expression());
      }
      this.expect(']');
      return { kind: 'list', items };
    }
    if (token === 'ParseJSON' || token === 'Concat') {
      this.expect('(');
      const args = [this.expression()];
      while (this.peek() === ',') {
        this.next();
        args.push(this.expression());
      }
      this.expect(')');
      return { kind: 'call', name: token, args };
    }
    if (token === 'body' || token === 'cache' || token === 'attributes' || token === 'resource.attributes') {
      const keys: string[] = [];
      while (this.peek() === '[') {
        this.next();
        const key = this.next();
        if (!key.startsWith('"')) this.fail('only string keys are supported');
        keys.push(JSON.parse(key) as string);
        this.expect(']');
      }
      return { kind: 'path', root: token, keys };
    }
    return this.fail(`${token} is not supported`);
  }
}

export function parseStatement(text: string): Statement {
  return new Parser(tokenize(text), text).statement();
}

function isMap(value: OttlValue | undefined): value is OttlMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function rootOf(record: LogRecordState, root: Exclude<Statement['target']['root'], 'body'>): OttlMap {
  return root === 'cache' ? record.cache : root === 'attributes' ? record.attributes : record.resource;
}

function evaluate(expression: Expression, record: LogRecordState): OttlValue {
  switch (expression.kind) {
    case 'literal':
      return expression.value;
    case 'list':
      return expression.items.map((item) => evaluate(item, record));
    case 'path': {
      if (expression.root === 'body') {
        if (expression.keys.length > 0) throw new Error('a string body cannot be indexed');
        return record.body;
      }
      let value: OttlValue = rootOf(record, expression.root);
      for (const key of expression.keys) {
        if (!isMap(value)) throw new Error(`type ${value === null ? 'nil' : typeof value} cannot be indexed`);
        value = value[key] ?? null;
      }
      return value;
    }
    case 'call': {
      const args = expression.args.map((arg) => evaluate(arg, record));
      if (expression.name === 'ParseJSON') {
        const parsed = JSON.parse(String(args[0])) as OttlValue;
        if (!isMap(parsed)) throw new Error('ParseJSON needs a JSON object');
        return parsed;
      }
      const [values, separator] = args;
      if (!Array.isArray(values) || typeof separator !== 'string') throw new Error('Concat(list, string)');
      if (values.some((value) => value === null)) throw new Error('Concat of nil');
      return values.map(String).join(separator);
    }
  }
}

function holds(comparison: Comparison, record: LogRecordState): boolean {
  const equal = evaluate(comparison.left, record) === evaluate(comparison.right, record);
  return comparison.operator === '==' ? equal : !equal;
}

/** Runs the statements on `record` in order, as the transform processor with `error_mode: ignore` does. */
export function runStatements(statements: readonly Statement[], record: LogRecordState): string[] {
  const errors: string[] = [];
  for (const statement of statements) {
    try {
      if (!statement.conditions.every((condition) => holds(condition, record))) continue;
      const value = evaluate(statement.value, record);
      if (value === null) continue;
      let map = rootOf(record, statement.target.root as Exclude<Statement['target']['root'], 'body'>);
      const keys = statement.target.keys;
      if (keys.length === 0) throw new Error('set needs a key');
      for (const key of keys.slice(0, -1)) {
        const inner = map[key];
        if (!isMap(inner)) throw new Error(`${key} is not a map`);
        map = inner;
      }
      map[keys.at(-1) as string] = value;
    } catch (error) {
      errors.push(`${statement.text}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return errors;
}
