import { isLeft, left, right, type Either } from 'fp-ts/lib/Either.js';
import { tokenize, type Token } from './condition-lexer.ts';
import {
  invalidCondition,
  MAX_CONDITION_DEPTH,
  MAX_CONDITION_LENGTH,
  type ComparisonOperator,
  type Expression,
  type InvalidCondition,
  type PathRoot,
} from './condition-syntax.ts';

// A hand-written recursive-descent parser for the grammar in condition-syntax.ts. No library
// for this is installed, and the language is small enough that a page of code reads better
// than a grammar generator. Every failure is an InvalidCondition naming the offset.

const COMPARISONS: readonly string[] = ['==', '!=', '<', '<=', '>', '>='];
const ROOTS: readonly string[] = ['steps', 'inputs'];
const KEYWORDS: Readonly<Record<string, boolean | null>> = { true: true, false: false, null: null };

/** Thrown only inside this module, to unwind the recursion; `parseCondition` turns it into a Left. */
class Stop {
  constructor(readonly error: InvalidCondition) {}
}

export function parseCondition(source: string): Either<InvalidCondition, Expression> {
  if (source.length > MAX_CONDITION_LENGTH) return left(invalidCondition(source, MAX_CONDITION_LENGTH, `longer than ${MAX_CONDITION_LENGTH} characters`));
  const tokens = tokenize(source);
  if (isLeft(tokens)) return tokens;
  try {
    return right(new Parser(source, tokens.right).condition());
  } catch (e) {
    if (e instanceof Stop) return left(e.error);
    throw e;
  }
}

/** A path on its own, such as `steps.analyze.output.findings` (used by step parameters that read earlier outputs). */
export function parsePath(source: string): Either<InvalidCondition, Extract<Expression, { kind: 'path' }>> {
  const parsed = parseCondition(source);
  if (isLeft(parsed)) return parsed;
  return parsed.right.kind === 'path' ? right(parsed.right) : left(invalidCondition(source, 0, 'expected a path such as steps.<id>.output'));
}

class Parser {
  private index = 0;
  private depth = 0;

  constructor(
    private readonly source: string,
    private readonly tokens: readonly Token[],
  ) {}

  condition(): Expression {
    const expression = this.or();
    const next = this.peek();
    if (next.kind !== 'end') this.fail(next.position, `unexpected ${describe(next)}`);
    return expression;
  }

  private or(): Expression {
    return this.nested(() => {
      let expression = this.and();
      while (this.acceptSymbol('||')) expression = { kind: 'or', left: expression, right: this.and() };
      return expression;
    });
  }

  private and(): Expression {
    let expression = this.comparison();
    while (this.acceptSymbol('&&')) expression = { kind: 'and', left: expression, right: this.comparison() };
    return expression;
  }

  /** Comparisons do not chain: `a < b < c` is refused rather than given a surprising meaning. */
  private comparison(): Expression {
    const leftSide = this.unary();
    const operator = this.comparisonOperator();
    if (!operator) return leftSide;
    const expression: Expression = { kind: 'compare', operator, left: leftSide, right: this.unary() };
    const next = this.peek();
    if (this.comparisonOperatorAt(next)) this.fail(next.position, 'comparisons cannot be chained; use && between them');
    return expression;
  }

  private unary(): Expression {
    if (this.acceptSymbol('!')) return this.nested(() => ({ kind: 'not', operand: this.unary() }));
    return this.primary();
  }

  private primary(): Expression {
    const token = this.next();
    switch (token.kind) {
      case 'number':
      case 'string':
        return { kind: 'literal', value: token.value };
      case 'name':
        if (Object.hasOwn(KEYWORDS, token.value)) return { kind: 'literal', value: KEYWORDS[token.value]! };
        if (ROOTS.includes(token.value)) return this.path(token.value as PathRoot);
        return this.fail(token.position, `unknown name ${JSON.stringify(token.value)}; paths start with steps. or inputs.`);
      case 'symbol':
        if (token.value === '(') return this.parenthesised();
        if (token.value === '[') return this.list();
        return this.fail(token.position, `unexpected ${describe(token)}`);
      case 'end':
        return this.fail(token.position, 'unexpected end of condition');
    }
  }

  private parenthesised(): Expression {
    const expression = this.or();
    this.expectSymbol(')');
    return expression;
  }

  private list(): Expression {
    return this.nested(() => {
      const items: Expression[] = [];
      if (!this.acceptSymbol(']')) {
        do items.push(this.or());
        while (this.acceptSymbol(','));
        this.expectSymbol(']');
      }
      return { kind: 'list', items };
    });
  }

  private path(root: PathRoot): Expression {
    const segments: (string | number)[] = [];
    for (;;) {
      if (this.acceptSymbol('.')) {
        const name = this.next();
        if (name.kind !== 'name') this.fail(name.position, 'expected a name after "."; use [n] for an index');
        segments.push(name.value as string);
      } else if (this.acceptSymbol('[')) {
        const key = this.next();
        if (key.kind === 'string') segments.push(key.value);
        else if (key.kind === 'number' && Number.isInteger(key.value) && key.value >= 0) segments.push(key.value);
        else this.fail(key.position, 'expected a string or a non-negative integer inside [ ]');
        this.expectSymbol(']');
      } else {
        return { kind: 'path', root, segments };
      }
    }
  }

  private comparisonOperator(): ComparisonOperator | undefined {
    const token = this.peek();
    if (!this.comparisonOperatorAt(token)) return undefined;
    this.index += 1;
    return token.kind === 'symbol' ? (token.value as ComparisonOperator) : 'in';
  }

  private comparisonOperatorAt(token: Token): boolean {
    return (token.kind === 'symbol' && COMPARISONS.includes(token.value)) || (token.kind === 'name' && token.value === 'in');
  }

  private nested<T>(parse: () => T): T {
    this.depth += 1;
    if (this.depth > MAX_CONDITION_DEPTH) this.fail(this.peek().position, `nested more than ${MAX_CONDITION_DEPTH} levels deep`);
    try {
      return parse();
    } finally {
      this.depth -= 1;
    }
  }

  private acceptSymbol(symbol: string): boolean {
    const token = this.peek();
    if (token.kind !== 'symbol' || token.value !== symbol) return false;
    this.index += 1;
    return true;
  }

  private expectSymbol(symbol: string): void {
    const token = this.peek();
    if (!this.acceptSymbol(symbol)) this.fail(token.position, `expected "${symbol}" but found ${describe(token)}`);
  }

  private peek(): Token {
    return this.tokens[this.index] ?? this.tokens[this.tokens.length - 1]!;
  }

  private next(): Token {
    const token = this.peek();
    if (token.kind !== 'end') this.index += 1;
    return token;
  }

  private fail(position: number, problem: string): never {
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- a private signal caught in parse(), never seen outside; no stack needed
    throw new Stop(invalidCondition(this.source, position, problem));
  }
}

const describe = (token: Token): string => (token.kind === 'end' ? 'end of condition' : `${JSON.stringify(String(token.value))}`);
