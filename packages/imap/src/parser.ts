/**
 * The IMAP command grammar Portico needs (RFC 3501 9): tag, command name, then arguments made of
 * atoms, quoted strings, literals and parenthesised lists. The session collects a command's lines and
 * literal bytes first; a line that ends in `{n}` is followed by the next literal, so the tokenizer
 * takes literals from a queue in order.
 */

export type Token =
  | { readonly kind: 'atom'; readonly value: string }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'list'; readonly items: readonly Token[] };

export interface Command {
  readonly tag: string;
  /** Upper case. */
  readonly name: string;
  readonly args: readonly Token[];
}

export class ParseError extends Error {
  /** The tag, when it could be read (the BAD reply is tagged then). */
  readonly tag: string | undefined;
  constructor(message: string, tag?: string) {
    super(message);
    this.tag = tag;
  }
}

// atom-char: any CHAR except atom-specials ( ) { SP CTL % * " \ ] — but we read `%`, `*` and `]`
// in atoms too, since list patterns, sequence sets ("1:*") and fetch sections use them.
const ATOM_STOP = new Set([0x20, 0x28, 0x29, 0x7b, 0x22]);
const TAG = /^[\x21-\x7e]+$/;
/** Deepest parenthesised list accepted: real commands nest two or three levels. */
export const MAX_DEPTH = 32;

/** A literal announcement at the end of a line: `{12}` or the non-synchronising `{12+}` (RFC 7888). */
export function literalAtEnd(line: string): { size: number; sync: boolean } | undefined {
  const m = /\{(\d{1,10})(\+?)\}$/.exec(line);
  return m ? { size: Number(m[1]), sync: m[2] !== '+' } : undefined;
}

export function parseCommand(text: string, literals: readonly string[] = []): Command {
  const space = text.indexOf(' ');
  const tag = space === -1 ? text : text.slice(0, space);
  if (!TAG.test(tag) || tag.includes('+') || tag.includes('{') || tag.includes('(') || tag.includes('*') || tag.includes('"') || tag.includes('%')) {
    throw new ParseError('Invalid tag');
  }
  if (space === -1) throw new ParseError('Missing command', tag);
  const tokens = tokenize(text.slice(space + 1), literals, tag);
  const first = tokens[0];
  if (!first || first.kind !== 'atom') throw new ParseError('Missing command', tag);
  return { tag, name: first.value.toUpperCase(), args: tokens.slice(1) };
}

export function tokenize(text: string, literals: readonly string[] = [], tag?: string): Token[] {
  let pos = 0;
  let literal = 0;
  const fail = (what: string): never => {
    throw new ParseError(what, tag);
  };
  let nesting = 0;
  const list = (closing: boolean): Token[] => {
    const items: Token[] = [];
    for (;;) {
      if (pos >= text.length) {
        if (closing) fail('Unterminated list');
        return items;
      }
      const c = text.charCodeAt(pos);
      if (c === 0x29) {
        if (!closing) fail('Unexpected ")"');
        pos++;
        return items;
      }
      if (items.length > 0) {
        if (c !== 0x20) fail('Expected a space between arguments');
        pos++;
      }
      items.push(one());
    }
  };
  const one = (): Token => {
    const c = text.charCodeAt(pos);
    if (c === 0x28) {
      if (nesting >= MAX_DEPTH) fail('Lists nested too deeply');
      pos++;
      nesting++;
      const items = list(true);
      nesting--;
      return { kind: 'list', items };
    }
    if (c === 0x22) return quoted();
    if (c === 0x7b) {
      // The session joined the line after the literal's bytes directly to the announcement.
      const m = /^\{(\d{1,10})\+?\}/.exec(text.slice(pos));
      const value = literals[literal];
      if (!m || value === undefined) return fail('Malformed literal');
      literal++;
      pos += m[0].length;
      return { kind: 'string', value };
    }
    return atom();
  };
  const quoted = (): Token => {
    let value = '';
    for (pos++; pos < text.length; pos++) {
      const ch = text[pos]!;
      if (ch === '"') {
        pos++;
        return { kind: 'string', value };
      }
      if (ch === '\\') {
        const next = text[++pos];
        if (next !== '"' && next !== '\\') fail('Invalid escape in quoted string');
        value += next;
      } else {
        value += ch;
      }
    }
    return fail('Unterminated quoted string');
  };
  const atom = (): Token => {
    const start = pos;
    let depth = 0;
    while (pos < text.length) {
      const c = text.charCodeAt(pos);
      // A fetch section "BODY[HEADER.FIELDS (FROM TO)]" is one atom: spaces and parens inside [].
      if (c === 0x5b) depth++;
      else if (c === 0x5d && depth > 0) depth--;
      else if (depth === 0 && ATOM_STOP.has(c)) break;
      else if (c < 0x20 || c === 0x7f) fail('Control character in atom');
      pos++;
    }
    if (pos === start) fail('Expected an argument');
    return { kind: 'atom', value: text.slice(start, pos) };
  };
  const tokens = list(false);
  if (literal !== literals.length) fail('Unused literal');
  return tokens;
}

/** A string argument: atom, quoted string or literal (RFC 3501 astring). */
export function astring(token: Token | undefined): string | undefined {
  if (!token || token.kind === 'list') return undefined;
  return token.value;
}

/** IMAP quoted string for responses (no CR/LF possible in what we quote). */
export function quote(text: string): string {
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
