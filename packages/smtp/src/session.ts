import type { AcceptedConnection } from '@portico/core';
import { IGNORE_SECURITY_EVENTS } from '@portico/core';
import type { SessionContext, Transaction } from './context.ts';
import { DataReader } from './data-reader.ts';
import { LineReader } from './line-reader.ts';
import { parseCommand } from './parser.ts';
import { formatReply, isError, R } from './replies.ts';
import type { Reply } from './replies.ts';
import { DEFAULT_LIMITS } from './types.ts';
import type { SmtpLimits, SmtpOptions } from './types.ts';
import { COMMANDS } from './commands/index.ts';
import { finishData } from './commands/data.ts';
import { ERR_OPTIONS } from './errors.ts';

/** How long a closing client gets to read our last reply before the socket is destroyed. */
const LINGER_MS = 2000;
/** Pause reading when this much unprocessed input piles up while a command is busy. */
const HIGH_WATER = 256 * 1024;

/**
 * Runs one SMTP or submission session on a connection the listener accepted. Sends the greeting at
 * once. Throws PORTICO_ERR_SMTP_OPTIONS only for an invalid mode (a wiring mistake); after that, every
 * failure ends in a reply or a closed socket, never an exception.
 */
export function handleSmtpSession(conn: AcceptedConnection, options: SmtpOptions): void {
  if (options.mode !== 'smtp' && options.mode !== 'submission') throw ERR_OPTIONS(`mode must be "smtp" or "submission"`);
  new Session(conn, options).start();
}

class Session implements SessionContext {
  conn: AcceptedConnection;
  readonly options: SmtpOptions;
  readonly limits: SmtpLimits;
  helo: string | undefined;
  esmtp = false;
  account: string | undefined;
  transaction: Transaction | undefined;

  #lines: LineReader;
  #data: DataReader | undefined;
  #chunk: { remaining: number; into: Buffer[] | undefined; done: () => Promise<void> | void } | undefined;
  #continuation: ((line: string) => Promise<void> | void) | undefined;
  #busy = false;
  #closed = false;
  #errors = 0;
  #commands = 0;
  #timer: NodeJS.Timeout | undefined;
  #onData = (chunk: Buffer) => this.#receive(chunk);
  #ended = false;
  // The client's FIN: answer what it already sent (e.g. "DATA ... . QUIT" then FIN), then close.
  #onEnd = () => {
    this.#ended = true;
    if (!this.#busy) this.close('client closed');
  };
  #onClose = () => this.#cleanup('client closed');

  constructor(conn: AcceptedConnection, options: SmtpOptions) {
    this.conn = conn;
    this.options = options;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.#lines = new LineReader(this.limits.maxLineLength);
  }

  get encrypted(): boolean {
    return this.conn.info.tls !== null;
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
    this.#timer = setTimeout(() => this.#timeout(), this.limits.commandTimeoutMs);
    this.#timer.unref();
  }

  #timeout(): void {
    if (this.#closed) return;
    if (this.#commands === 0) {
      (this.options.events ?? IGNORE_SECURITY_EVENTS).report({
        kind: 'loiter',
        reason: 'idle-timeout',
        connection: this.conn.info,
      });
    } else {
      this.limitReached('command-timeout', `idle ${this.limits.commandTimeoutMs}ms after ${this.#commands} commands`);
    }
    this.conn.log.info({ commands: this.#commands }, 'smtp: timeout');
    this.close('timeout', R.timeout(this.options.hostname));
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
        if (this.#chunk) {
          const chunk = this.#chunk;
          const input = this.#lines.takeRest();
          const take = Math.min(input.length, chunk.remaining);
          if (take > 0) chunk.into?.push(input.subarray(0, take));
          chunk.remaining -= take;
          this.#lines.push(input.subarray(take));
          if (chunk.remaining > 0) break;
          this.#chunk = undefined;
          await chunk.done();
          continue;
        }
        if (this.#data) {
          const result = this.#data.push(this.#lines.takeRest());
          if (!result) break;
          this.#data = undefined;
          this.#lines.push(result.rest);
          await finishData(this, result);
          continue;
        }
        const event = this.#lines.next();
        if (!event) break;
        if (event.kind === 'too-long') {
          this.limitReached('line-too-long', `over ${this.limits.maxLineLength} bytes`);
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
      this.conn.log.error({ err: error instanceof Error ? error.message : String(error) }, 'smtp: internal error');
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
    const command = parseCommand(line);
    const handler = COMMANDS.get(command.verb);
    if (!handler) {
      this.conn.log.debug({ verb: command.verb.slice(0, 16) }, 'smtp: unknown command');
      this.send(R.unknownCommand);
      return;
    }
    // AUTH arguments carry credentials: only the verb is ever logged.
    this.conn.log.debug({ verb: command.verb }, 'smtp: command');
    await handler(this, command.args);
  }

  send(reply: Reply, countsAsError = true): void {
    if (this.#closed) return;
    this.conn.socket.write(formatReply(reply));
    if (countsAsError && isError(reply) && reply.code !== 421) {
      this.#errors++;
      if (this.#errors >= this.limits.maxErrors) {
        (this.options.events ?? IGNORE_SECURITY_EVENTS).report({
          kind: 'scan',
          reason: 'too-many-errors',
          connection: this.conn.info,
          detail: `${this.#errors} error replies`,
        });
        this.conn.log.warn({ errors: this.#errors }, 'smtp: too many errors, closing');
        this.close('too many errors', R.tooManyErrors(this.options.hostname));
      }
    }
  }

  limitReached(reason: string, detail?: string): void {
    (this.options.events ?? IGNORE_SECURITY_EVENTS).report({ kind: 'limit', reason, connection: this.conn.info, ...(detail ? { detail } : {}) });
  }

  expectLine(handler: (line: string) => Promise<void> | void): void {
    this.#continuation = handler;
  }

  beginData(): void {
    this.#data = new DataReader(this.limits.maxMessageSize);
  }

  readChunk(size: number, into: Buffer[] | undefined, done: () => Promise<void> | void): void {
    this.#chunk = { remaining: size, into, done };
  }

  async startTls(): Promise<void> {
    const upgrade = this.conn.startTls;
    if (!upgrade) return;
    const old = this.conn;
    this.#detach();
    // RFC 3207 5: anything the client pipelined after STARTTLS is discarded (command injection).
    const discarded = this.#lines.takeRest();
    if (discarded.length > 0) old.log.info({ bytes: discarded.length }, 'smtp: discarded input pipelined after STARTTLS');
    // Let the 220 reply reach the socket before TLS takes it over.
    await new Promise<void>((resolve) => old.socket.write('', () => resolve()));
    try {
      this.conn = await upgrade();
    } catch (error) {
      old.log.info({ err: error instanceof Error ? error.message : String(error) }, 'smtp: STARTTLS handshake failed');
      this.#closed = true;
      clearTimeout(this.#timer);
      old.onClose('tls handshake failed');
      old.socket.destroy();
      return;
    }
    if (this.#closed) return;
    // A new session state: the client must say EHLO again (RFC 3207 4.2).
    this.helo = undefined;
    this.esmtp = false;
    this.account = undefined;
    this.transaction = undefined;
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
