import type { AcceptedConnection } from '@portico/core';
import { IGNORE_SECURITY_EVENTS, isEncrypted } from '@portico/core';
import type { ImapState, Selected, SessionContext } from './context.ts';
import { LineReader } from './line-reader.ts';
import { literalAtEnd, parseCommand, ParseError } from './parser.ts';
import { capabilities } from './commands/capability.ts';
import { COMMANDS } from './commands/index.ts';
import { DEFAULT_LIMITS } from './types.ts';
import type { ImapLimits, ImapOptions } from './types.ts';
import { ERR_OPTIONS } from './errors.ts';

/** How long a closing client gets to read our last response before the socket is destroyed. */
const LINGER_MS = 2000;
/** Pause reading when this much unprocessed input piles up while a command is busy. */
const HIGH_WATER = 256 * 1024;

/**
 * Runs one IMAP4rev1 session on a connection the listener accepted; greets at once. Throws
 * PORTICO_ERR_IMAP_OPTIONS only for missing options (a wiring mistake); after that every failure
 * ends in a response or a closed socket, never an exception.
 */
export function handleImapSession(conn: AcceptedConnection, options: ImapOptions): void {
  if (!options.hostname || !options.accounts || !options.mailbox) throw ERR_OPTIONS('hostname, accounts and mailbox are required');
  new Session(conn, options).start();
}

/** A command being collected: its lines joined, and the literal bytes announced in them. */
interface Pending {
  text: string;
  literals: string[];
  size: number;
}

class Session implements SessionContext {
  conn: AcceptedConnection;
  readonly options: ImapOptions;
  readonly limits: ImapLimits;
  state: ImapState = 'not-authenticated';
  account: string | undefined;
  selected: Selected | undefined;

  #lines: LineReader;
  #pending: Pending | undefined;
  #literal: { remaining: number; chunks: Buffer[] } | undefined;
  #continuation: ((line: string) => Promise<void> | void) | undefined;
  #busy = false;
  #closed = false;
  #ended = false;
  #errors = 0;
  #commands = 0;
  #timer: NodeJS.Timeout | undefined;
  #onData = (chunk: Buffer) => this.#receive(chunk);
  #onEnd = () => {
    this.#ended = true;
    if (!this.#busy) this.close('client closed');
  };
  #onClose = () => this.#cleanup('client closed');

  constructor(conn: AcceptedConnection, options: ImapOptions) {
    this.conn = conn;
    this.options = options;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.#lines = new LineReader(this.limits.maxLineLength);
  }

  get encrypted(): boolean {
    return isEncrypted(this.conn.info);
  }

  start(): void {
    this.#attach();
    this.send(`* OK [CAPABILITY ${capabilities(this).join(' ')}] ${this.options.hostname} IMAP4rev1 Portico ready`);
  }

  #attach(): void {
    const socket = this.conn.socket;
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('close', this.#onClose);
    socket.on('error', (error: Error) => this.conn.log.debug({ err: error.message }, 'socket error'));
    this.#armTimer();
  }

  #detach(): void {
    const socket = this.conn.socket;
    socket.off('data', this.#onData);
    socket.off('end', this.#onEnd);
    socket.off('close', this.#onClose);
  }

  #armTimer(): void {
    clearTimeout(this.#timer);
    if (this.#closed) return;
    this.#timer = setTimeout(() => this.#timeout(), this.limits.idleTimeoutMs);
    this.#timer.unref();
  }

  #timeout(): void {
    if (this.#closed) return;
    const events = this.options.events ?? IGNORE_SECURITY_EVENTS;
    // A connection that never said anything is someone holding sockets open; an idle client is not.
    if (this.#commands === 0) events.report({ kind: 'loiter', reason: 'idle-timeout', connection: this.conn.info });
    else events.report({ kind: 'limit', reason: 'idle-timeout', connection: this.conn.info, detail: `idle ${this.limits.idleTimeoutMs}ms after ${this.#commands} commands` });
    this.conn.log.info({ commands: this.#commands }, 'imap: autologout');
    this.send('* BYE Autologout; idle for too long');
    this.close('timeout');
  }

  #receive(chunk: Buffer): void {
    if (this.#closed) return;
    this.#armTimer();
    this.#lines.push(chunk);
    if (this.#busy && this.#lines.buffered > HIGH_WATER) this.conn.socket.pause();
    void this.#pump();
  }

  async #pump(): Promise<void> {
    if (this.#busy || this.#closed) return;
    this.#busy = true;
    try {
      while (!this.#closed) {
        if (this.#literal) {
          const literal = this.#literal;
          const input = this.#lines.takeRest();
          const take = Math.min(input.length, literal.remaining);
          literal.chunks.push(input.subarray(0, take));
          literal.remaining -= take;
          this.#lines.push(input.subarray(take));
          if (literal.remaining > 0) break;
          this.#literal = undefined;
          this.#pending!.literals.push(Buffer.concat(literal.chunks).toString('utf8'));
          continue;
        }
        const event = this.#lines.next();
        if (!event) break;
        if (event.kind === 'too-long') {
          this.#pending = undefined;
          this.#limitReached('line-too-long', `over ${this.limits.maxLineLength} bytes`);
          this.send('* BAD Line too long');
          this.#countError();
          continue;
        }
        const continuation = this.#continuation;
        if (continuation) {
          this.#continuation = undefined;
          await continuation(event.line);
          continue;
        }
        await this.#collect(event.line);
      }
    } catch (error) {
      this.conn.log.error({ err: error instanceof Error ? error.message : String(error) }, 'imap: internal error');
      this.send('* BYE Internal error, try again later');
      this.close('internal error');
    } finally {
      this.#busy = false;
    }
    if (this.#closed) return;
    if (this.#ended) return this.close('client closed');
    if (this.conn.socket.isPaused()) this.conn.socket.resume();
  }

  /** Adds one line to the command being collected; a line ending in `{n}` waits for n literal bytes. */
  async #collect(line: string): Promise<void> {
    const pending = this.#pending ?? { text: '', literals: [], size: 0 };
    pending.text += line;
    pending.size += line.length;
    const literal = literalAtEnd(line);
    if (!literal) {
      this.#pending = undefined;
      return this.#dispatch(pending);
    }
    if (literal.size > this.limits.maxLiteralSize || pending.size + literal.size > this.limits.maxLiteralSize + this.limits.maxLineLength) {
      this.#pending = undefined;
      this.#limitReached('literal-too-large', `${literal.size} bytes`);
      if (!literal.sync) {
        // The client sends the bytes without waiting: they cannot be told apart from commands.
        this.send('* BYE Literal too large');
        return this.close('literal too large');
      }
      const tag = pending.text.split(' ', 1)[0] ?? '*';
      return this.#bad(/^[\x21-\x7e]+$/.test(tag) ? tag : '*', 'Literal too large');
    }
    pending.size += literal.size;
    this.#pending = pending;
    this.#literal = { remaining: literal.size, chunks: [] };
    if (literal.sync) this.send('+ Ready for literal data');
  }

  async #dispatch(pending: Pending): Promise<void> {
    this.#commands++;
    let command;
    try {
      command = parseCommand(pending.text, pending.literals);
    } catch (error) {
      if (!(error instanceof ParseError)) throw error;
      return this.#bad(error.tag ?? '*', error.message);
    }
    const handler = COMMANDS.get(command.name);
    // Arguments may carry passwords: only the name is logged.
    this.conn.log.debug({ command: command.name.slice(0, 20) }, 'imap: command');
    if (!handler) return this.#bad(command.tag, 'Unknown command');
    if (!handler.states.includes(this.state)) return this.#bad(command.tag, 'Command not valid in this state');
    await handler.run(this, command.tag, command.args);
  }

  #bad(tag: string, text: string): void {
    this.send(`${tag} BAD ${text}`);
  }

  send(line: string): void {
    if (this.#closed) return;
    this.conn.socket.write(`${line}\r\n`);
    if (/^\S+ BAD /.test(line) && !line.startsWith('* BAD')) this.#countError();
  }

  write(data: Buffer): void {
    if (!this.#closed) this.conn.socket.write(data);
  }

  #countError(): void {
    this.#errors++;
    if (this.#errors < this.limits.maxErrors || this.#closed) return;
    (this.options.events ?? IGNORE_SECURITY_EVENTS).report({ kind: 'scan', reason: 'too-many-errors', connection: this.conn.info, detail: `${this.#errors} BAD responses` });
    this.conn.log.warn({ errors: this.#errors }, 'imap: too many errors, closing');
    this.send('* BYE Too many errors');
    this.close('too many errors');
  }

  #limitReached(reason: string, detail: string): void {
    (this.options.events ?? IGNORE_SECURITY_EVENTS).report({ kind: 'limit', reason, connection: this.conn.info, detail });
  }

  expectLine(handler: (line: string) => Promise<void> | void): void {
    this.#continuation = handler;
  }

  async startTls(): Promise<void> {
    const upgrade = this.conn.startTls;
    if (!upgrade) return;
    const old = this.conn;
    this.#detach();
    // RFC 3501 6.2.1 / RFC 2595: what the client pipelined after STARTTLS is discarded (command injection).
    const discarded = this.#lines.takeRest();
    if (discarded.length > 0) old.log.info({ bytes: discarded.length }, 'imap: discarded input pipelined after STARTTLS');
    // Let the OK reach the socket before TLS takes it over.
    await new Promise<void>((resolve) => old.socket.write('', () => resolve()));
    try {
      this.conn = await upgrade();
    } catch (error) {
      old.log.info({ err: error instanceof Error ? error.message : String(error) }, 'imap: STARTTLS handshake failed');
      this.#closed = true;
      clearTimeout(this.#timer);
      old.onClose('tls handshake failed');
      old.socket.destroy();
      return;
    }
    if (this.#closed) return;
    this.#attach();
  }

  close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.conn.onClose(reason);
    const socket = this.conn.socket;
    socket.end();
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  }

  #cleanup(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.conn.onClose(reason);
  }
}
