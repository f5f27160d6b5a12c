/** Address lists with groups (RFC 5322 3.4), for JMAP's asAddresses forms and IMAP's ENVELOPE. */
import { decodeWords, unfold } from './mime.ts';

export interface EmailAddress {
  name: string | null;
  email: string;
}

function splitOutside(text: string, separator: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  let angle = 0;
  let comment = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      current += c;
      if (c === '\\' && i + 1 < text.length) current += text[++i];
      else if (c === '"') quoted = false;
      continue;
    }
    if (c === '"') quoted = true;
    else if (c === '(') comment++;
    else if (c === ')' && comment > 0) comment--;
    else if (c === '<' && comment === 0) angle++;
    else if (c === '>' && angle > 0 && comment === 0) angle--;
    if (c === separator && !quoted && angle === 0 && comment === 0) {
      out.push(current);
      current = '';
    } else current += c;
  }
  out.push(current);
  return out;
}

function cleanName(text: string, decode: boolean): string | null {
  let name = text.trim();
  if (name.startsWith('"') && name.endsWith('"') && name.length >= 2) name = name.slice(1, -1).replace(/\\(.)/g, '$1');
  if (decode) name = decodeWords(name).trim();
  return name === '' ? null : name;
}

function parseMailbox(text: string, decode: boolean): EmailAddress | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  const m = /^(.*)<([^<>]*)>\s*(\(.*\))?$/s.exec(trimmed);
  if (m) return { name: cleanName(m[1]!, decode), email: m[2]!.trim() };
  const comment = /\(([^()]*)\)/.exec(trimmed);
  const email = trimmed.replace(/\([^()]*\)/g, '').trim();
  return { name: comment ? cleanName(comment[1]!, decode) : null, email };
}

export interface AddressGroup {
  name: string | null;
  addresses: EmailAddress[];
}

/**
 * An address list (RFC 5322 3.4) in groups; addresses outside a group form groups named null. Names are
 * unquoted and, with `decode` (the default), their encoded words decoded. Never throws.
 */
export function parseAddressGroups(raw: string, decode = true): AddressGroup[] {
  const mailbox = (text: string) => parseMailbox(text, decode);
  const groups: AddressGroup[] = [];
  let loose: EmailAddress[] = [];
  const flush = () => {
    if (loose.length > 0) groups.push({ name: null, addresses: loose });
    loose = [];
  };
  // Groups: "Team: a@x, b@y;" -- split on ";" outside quotes first, then on ":".
  for (const chunk of splitOutside(unfold(raw), ';')) {
    const colon = splitOutside(chunk, ':');
    if (colon.length >= 2) {
      const [before, ...rest] = colon;
      const members = splitOutside(rest.join(':'), ',').map(mailbox).filter((a): a is EmailAddress => a !== undefined);
      const leading = splitOutside(before!, ',');
      const groupName = leading.pop()!;
      for (const address of leading.map(mailbox)) if (address) loose.push(address);
      flush();
      groups.push({ name: cleanName(groupName, decode), addresses: members });
    } else {
      for (const address of splitOutside(chunk, ',').map(mailbox)) if (address) loose.push(address);
    }
  }
  flush();
  return groups;
}
