// Reading what `portico serve` stored: the Maildir files of an account, the message a "queued as ID"
// reply names, its trace header fields; and a raw socket exchange that keeps every byte it received.
import { readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { waitUntil } from './processes.ts';

/** `<dir>/data/mail/<address>/new`: where a message for `address` lands (data-dir = "data"). */
export function maildirNew(dir: string, address: string): string {
  return join(dir, 'data', 'mail', address, 'new');
}

/** Every file in the account's new/ (none when the Maildir does not exist yet). */
export function storedFiles(dir: string, address: string): { name: string; text: string }[] {
  const path = maildirNew(dir, address);
  let names: string[];
  try {
    names = readdirSync(path);
  } catch {
    return [];
  }
  return names.sort().map((name) => ({ name, text: readFileSync(join(path, name), 'latin1') }));
}

/** The id in the server's final reply to DATA: `250 2.0.0 OK: queued as <id>`. */
export function queuedId(transcript: string): string {
  const match = /250 2\.0\.0 OK: queued as ([A-Za-z0-9_-]+)/.exec(transcript);
  if (!match) throw new Error(`no "queued as" reply in:\n${transcript}`);
  return match[1]!;
}

/**
 * The stored message whose Received header carries `id <id>` (the id of the 250 reply). The file is
 * in new/ before the 250 goes out; the wait only covers a slow file system.
 */
export async function storedMessage(dir: string, address: string, id: string, timeoutMs = 3000): Promise<string> {
  return waitUntil(
    `a message with id ${id} in ${maildirNew(dir, address)}`,
    () => storedFiles(dir, address).find((f) => f.text.includes(`\tid ${id}`))?.text,
    timeoutMs,
  );
}

/** The header section (up to and including the empty line's CRLF is left out). */
export function headerSection(message: string): string {
  const end = message.indexOf('\r\n\r\n');
  return end === -1 ? message : message.slice(0, end + 2);
}

/** Every occurrence of header field `name` with its folded lines, exactly as stored (CRLFs included). */
export function headerFields(message: string, name: string): string[] {
  const fields: string[] = [];
  const lines = headerSection(message).split(/(?<=\r\n)/);
  let current: string | undefined;
  for (const line of lines) {
    if (/^[ \t]/.test(line) && current !== undefined) {
      current += line;
      continue;
    }
    if (current !== undefined) fields.push(current);
    current = line.toLowerCase().startsWith(`${name.toLowerCase()}:`) ? line : undefined;
  }
  if (current !== undefined) fields.push(current);
  return fields;
}

/**
 * Connects from `localAddress`, writes `send` at once, and answers every byte received until the
 * server closes the connection (or the deadline passes: then it rejects with what came so far).
 * With `then`, writes `then.send` once the bytes received so far match `then.when` (a client that
 * goes on talking after a refusal).
 */
export function rawExchange(options: {
  port: number;
  host?: string;
  localAddress: string;
  send: string | Buffer;
  then?: { when: RegExp; send: string | Buffer };
  timeoutMs?: number;
}): Promise<string> {
  const timeoutMs = options.timeoutMs ?? 5000;
  return new Promise((resolve, reject) => {
    const socket = connect({ host: options.host ?? '127.0.0.1', port: options.port, localAddress: options.localAddress });
    let bytes = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close from the server within ${timeoutMs}ms; got ${JSON.stringify(bytes)}`));
    }, timeoutMs);
    socket.once('connect', () => socket.write(options.send));
    let then = options.then;
    socket.on('data', (chunk: Buffer) => {
      bytes += chunk.toString('latin1');
      if (then && then.when.test(bytes)) {
        const { send } = then;
        then = undefined;
        if (socket.writable) socket.write(send);
      }
    });
    socket.on('error', () => {}); // a reset after the refusal still ends the exchange
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(bytes);
    });
  });
}

/** Regex-escapes literal text. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
