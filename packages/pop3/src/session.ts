import type { AcceptedConnection } from '@portico/core';
import { IGNORE_SECURITY_EVENTS, isEncrypted } from '@portico/core';
import type { Pop3State, SessionContext } from './context.ts';
import { LineReader } from './line-reader.ts';
import type { Maildrop } from './maildrop.ts';
import { multilineBody, multilineText } from './multiline.ts';
import { formatReply, R } from './replies.ts';
import type { Reply } from './replies.ts';
import { DEFAULT_LIMITS } from './types.ts';
import type { Pop3Limits, Pop3Options } from './types.ts';
import { COMMANDS } from './commands/index.ts';
import { ERR_OPTIONS } from './errors.ts';

/** How long a closing client gets to read our last reply before the socket is destroyed. */
const LINGER_MS = 2000;
/** Pause reading when this much unprocessed input piles up while a command is busy. */
const HIGH_WATER = 256 * 1024;

/**
 * Runs one POP3 session on a connection the listener accepted. Sends the greeting at once. Throws
 * PORTICO_ERR_POP3_OPTIONS only for invalid options (a wiring mistake); after that, every failure
 * ends in a reply or a closed socket, never an exception.
 */
export function handlePop3Session(conn: AcceptedConnection, options: Pop3Options): void {
  const limits: Pop3Limits = { ...DEFAULT_LIMITS, ...options.limits };
  if (!options.hostname) throw ERR_OPTIONS('hostname must not be empty');
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || value < 1) throw ERR_OPTIONS(`limits.${name} must be a positive integer`);
  }
  new Session(conn, options, limits).start();
}

class Session implements SessionContext {
  conn: AcceptedConnection;
  readonly options: Pop3Options;
  readonly limits: Pop3Limits;
  state: Pop3State = 'authorization';
  pendingUser: string | undefined;
  account: string | undefined;
  maildrop: Maildrop | undefined;

  #lines: LineReader;
  #continuation: ((line: string) => Promise<void> | void) | undefined;
  #busy = false;
  #closed = false;
  #errors = 0;
  #commands = 0;
  #timer: NodeJS.Timeout | undefined;
  #onData = (chunk: Buffer) => this.#receive(chunk);
  #ended = false;
  // The client's FIN: answer what it already sent (e.g. "DELE 1 / QUIT" then FIN), then close.
  #onEnd = () => {
    this.#ended = true;
    if (!this.#busy) this.close('client closed');
  };
  #onClose = () => this.#cleanup('client closed');

  constructor(conn: AcceptedConnection, options: Pop3Options, limits: Pop3Limits) {
    this.conn = conn;
    this.options = options;
    this.limits = limits;
    this.#lines = new LineReader(limits.maxLineLength);
  }

  get encrypted(): boolean {
    return isEncrypted(this.conn.info);
  }

  get #events() {
    return this.options.events ?? IGNORE_SECURITY_EVENTS;
  }

  start(): void {
    this.#attach();
    this.send(R.greeting(this.options.hostname));
  }

  #attach(): void {
    const socket = this.conn.socket;
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('close', this.#onClose);
    socket.on('error', (error: Error) => {
      this.conn.log.debug({ err: error.message }, 'socket error');
    });
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

  /** RFC 1939 3: the autologout timer closes the session without entering UPDATE (no DELE takes effect). */
  #timeout(): void {
    if (this.#closed) return;
    if (this.#commands === 0) {
      this.#events.report({ kind: 'loiter', reason: 'idle-timeout', connection: this.conn.info });
    } else {
      this.#events.report({
        kind: 'limit',
        reason: 'idle-timeout',
        connection: this.conn.info,
        detail: `idle ${this.limits.idleTimeoutMs}ms after ${this.#commands} commands`,
      });
    }
    this.conn.log.info({ commands: this.#commands, state: this.state }, 'pop3: timeout');
    this.close('timeout', R.timeout);
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
        const event = this.#lines.next();
        if (!event) break;
        if (event.kind === 'too-long') {
          this.#continuation = undefined;
          this.#events.report({ kind: 'limit', reason: 'line-too-long', connection: this.conn.info, detail: `over ${this.limits.maxLineLength} bytes` });
          this.send(R.lineTooLong);
          continue;
        }
        const continuation = this.#continuation;
        if (continuation) {
          this.#continuation = undefined;
          await continuation(event.line);
          continue;
        }
        await this.#dispatch(event.line);
      }
    } catch (error) {
      this.conn.log.error({ err: error instanceof Error ? error.message : String(error) }, 'pop3: internal error');
      this.close('internal error', R.localError);
    } finally {
      this.#busy = false;
    }
    if (this.#closed) return;
    if (this.#ended) return this.close('client closed');
    if (this.conn.socket.isPaused()) this.conn.socket.resume();
  }

  async #dispatch(line: string): Promise<void> {
    this.#commands++;
    const space = line.indexOf(' ');
    const verb = (space === -1 ? line : line.slice(0, space)).toUpperCase();
    const args = space === -1 ? '' : line.slice(space + 1);
    const command = COMMANDS.get(verb);
    // RFC 1939 7: PASS must follow USER directly; anything else forgets the name.
    const pendingUser = this.pendingUser;
    this.pendingUser = undefined;
    if (!command) {
      this.conn.log.debug({ verb: verb.slice(0, 16) }, 'pop3: unknown command');
      return this.send(R.unknownCommand);
    }
    // USER, PASS and AUTH arguments carry credentials: only the verb is ever logged.
    this.conn.log.debug({ verb }, 'pop3: command');
    if (!command.states.includes(this.state)) return this.send(R.wrongState);
    if (verb === 'PASS') this.pendingUser = pendingUser;
    await command.run(this, args);
  }

  send(reply: Reply, countsAsError = true): void {
    if (this.#closed) return;
    this.conn.socket.write(formatReply(reply));
    if (countsAsError && !reply.ok) this.#countError();
  }

  #countError(): void {
    this.#errors++;
    if (this.#errors < this.limits.maxErrors) return;
    this.#events.report({ kind: 'scan', reason: 'too-many-errors', connection: this.conn.info, detail: `${this.#errors} error replies` });
    this.conn.log.warn({ errors: this.#errors }, 'pop3: too many errors, closing');
    this.close('too many errors', R.tooManyErrors);
  }

  async sendMultiline(reply: Reply, body: Buffer | readonly string[]): Promise<void> {
    if (this.#closed) return;
    const socket = this.conn.socket;
    const parts = Buffer.isBuffer(body) ? multilineBody(body) : [Buffer.from(multilineText(body))];
    socket.cork();
    let full = !socket.write(formatReply(reply));
    for (const part of parts) full = !socket.write(part) || full;
    socket.uncork();
    // A large RETR must not pile up in memory behind a slow reader: wait until the socket drained.
    if (full && !this.#closed) {
      await new Promise<void>((resolve) => {
        const done = () => {
          socket.off('drain', done);
          socket.off('close', done);
          resolve();
        };
        socket.on('drain', done);
        socket.on('close', done);
      });
    }
  }

  write(text: string): void {
    if (!this.#closed) this.conn.socket.write(text);
  }

  expectLine(handler: (line: string) => Promise<void> | void): void {
    this.#continuation = handler;
  }

  async startTls(): Promise<void> {
    const upgrade = this.conn.startTls;
    if (!upgrade) return;
    const old = this.conn;
    this.#detach();
    // RFC 2595 / RFC 3207 5: anything the client pipelined after STLS is discarded (command injection).
    const discarded = this.#lines.takeRest();
    if (discarded.length > 0) old.log.info({ bytes: discarded.length }, 'pop3: discarded input pipelined after STLS');
    // Let the +OK reach the socket before TLS takes it over.
    await new Promise<void>((resolve) => old.socket.write('', () => resolve()));
    try {
      this.conn = await upgrade();
    } catch (error) {
      old.log.info({ err: error instanceof Error ? error.message : String(error) }, 'pop3: STLS handshake failed');
      this.#closed = true;
      clearTimeout(this.#timer);
      old.onClose('tls handshake failed');
      old.socket.destroy();
      return;
    }
    if (this.#closed) return;
    // A fresh AUTHORIZATION state on the new connection: nothing said in plaintext carries over.
    this.state = 'authorization';
    this.pendingUser = undefined;
    this.account = undefined;
    this.maildrop = undefined;
    this.#continuation = undefined;
    this.#attach();
  }

  close(reason: string, reply?: Reply): void {
    if (this.#closed) return;
    if (reply) this.conn.socket.write(formatReply(reply));
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
