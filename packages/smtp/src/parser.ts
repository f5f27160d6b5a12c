/** Command-line parsing (RFC 5321 4.1): verbs, paths (<addr>), ESMTP parameters. */

export interface Command {
  /** Upper-cased verb, e.g. "MAIL". */
  readonly verb: string;
  /** Everything after the verb and one space, unchanged. */
  readonly args: string;
}

export function parseCommand(line: string): Command {
  const space = line.indexOf(' ');
  if (space === -1) return { verb: line.toUpperCase(), args: '' };
  return { verb: line.slice(0, space).toUpperCase(), args: line.slice(space + 1) };
}

export interface PathArgument {
  /** The address without brackets; '' for the null path <>. */
  readonly address: string;
  /** ESMTP parameters, keys upper-cased; value undefined for keyword-only parameters. */
  readonly params: ReadonlyMap<string, string | undefined>;
}

// A conservative mailbox: dot-atom or quoted-string local part, domain or address literal.
const ATEXT = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~\\-\\u0080-\\uFFFF]";
const LOCAL = `(?:${ATEXT}+(?:\\.${ATEXT}+)*|"(?:[\\x20\\x21\\x23-\\x5b\\x5d-\\x7e\\u0080-\\uFFFF]|\\\\[\\x20-\\x7e])*")`;
const LABEL = '[A-Za-z0-9\\u0080-\\uFFFF](?:[A-Za-z0-9\\-\\u0080-\\uFFFF]{0,61}[A-Za-z0-9\\u0080-\\uFFFF])?';
const DOMAIN = `(?:${LABEL}(?:\\.${LABEL})*|\\[[A-Za-z0-9:.]+\\])`;
const MAILBOX = new RegExp(`^${LOCAL}@${DOMAIN}$`);

export function isMailbox(address: string): boolean {
  return address.length <= 320 && MAILBOX.test(address);
}

export function isAscii(text: string): boolean {
  return /^[\x00-\x7f]*$/.test(text);
}

/**
 * Parses `FROM:<path> params` / `TO:<path> params` (keyword given without the colon). A space after the
 * colon is tolerated (common in the wild). Source routes (@a,@b:user@c) are dropped per RFC 5321 4.1.2.
 * Answers undefined on a syntax error.
 */
export function parsePathArgument(args: string, keyword: 'FROM' | 'TO'): PathArgument | undefined {
  const prefix = `${keyword}:`;
  if (args.slice(0, prefix.length).toUpperCase() !== prefix) return undefined;
  const rest = args.slice(prefix.length).replace(/^ /, '');
  if (!rest.startsWith('<')) return undefined;
  const close = findClosingBracket(rest);
  if (close === -1) return undefined;
  let address = rest.slice(1, close);
  const sourceRoute = /^@[^:]+:/.exec(address);
  if (sourceRoute) address = address.slice(sourceRoute[0].length);
  const params = new Map<string, string | undefined>();
  const tail = rest.slice(close + 1);
  if (tail !== '' && !tail.startsWith(' ')) return undefined;
  for (const word of tail.split(' ')) {
    if (word === '') continue;
    const eq = word.indexOf('=');
    const key = (eq === -1 ? word : word.slice(0, eq)).toUpperCase();
    if (!/^[A-Z0-9][A-Z0-9-]*$/.test(key)) return undefined;
    params.set(key, eq === -1 ? undefined : word.slice(eq + 1));
  }
  return { address, params };
}

function findClosingBracket(text: string): number {
  let quoted = false;
  for (let i = 1; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && quoted) {
      i++;
      continue;
    }
    if (c === '"') quoted = !quoted;
    else if (c === '>' && !quoted) return i;
  }
  return -1;
}

/** Domain of an address, lower-cased ('' when there is none). */
export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at === -1 ? '' : address.slice(at + 1).toLowerCase();
}

/** EHLO/HELO argument: a domain or an address literal; we accept any printable token (logged, sanitized in headers). */
export function parseHeloArgument(args: string): string | undefined {
  const value = args.trim().split(' ')[0] ?? '';
  if (value === '' || value.length > 255 || !/^[\x21-\x7e\u0080-\uffff]+$/.test(value)) return undefined;
  return value;
}
