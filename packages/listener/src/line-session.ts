import type { AcceptedConnection, SecurityEventSink } from '@portico/core';
import { IGNORE_SECURITY_EVENTS } from '@portico/core';
import { LineReader } from './line-reader.ts';

/** How long a closing client gets to read our last words before the socket is destroyed. */
const LINGER_MS = 2000;
/** Pause reading when this much unprocessed input piles up while a command is busy. */
const HIGH_WATER = 256 * 1024;

export interface LineSessionSettings {
  /** Prefix of the session's log lines: "smtp", "pop3", "imap". */
  readonly protocol: string;
  /** The command that starts TLS, as the log names it: "STARTTLS", "STLS". */
  readonly tlsCommand: string;
  /** A protocol passes its own limits object (extra fields are ignored). */
  readonly limits: { readonly maxLineLength: number; readonly idleTimeoutMs: number; readonly maxErrors: number };
  /** The `limit` reason reported when a client that did send commands goes idle. */
  readonly timeoutReason: string;
  /** What maxErrors counts, for the `scan` event's detail: "error replies", "BAD responses". */
  readonly errorsCounted: string;
  readonly events?: SecurityEventSink | undefined;
}

/**
 * The socket side of a line-based protocol session (SMTP, POP3, IMAP): listeners, the idle timer,
 * input buffering with backpressure, one command at a time, STARTTLS, the error count and closing.
 * A protocol extends it with its commands, replies and state; the hooks below are where it speaks.
 * Every failure after start() ends in the protocol's last words or a closed socket, never an exception.
 */
export abstract class LineSession {
  #conn: AcceptedConnection;
  readonly #settings: LineSessionSettings;
  readonly #events: SecurityEventSink;
  /** Input not yet handled; a protocol takes raw bytes from it (DATA, literals) with takeRest. */
  protected readonly lines: LineReader;
  /** Commands dispatched so far: a protocol counts them, the idle timer tells loiterers by them. */
  protected commands = 0;
  #continuation: ((line: string) => Promise<void> | void) | undefined;
  #busy = false;
  #closed = false;
  #ended = false;
  #errors = 0;
  #timer: NodeJS.Timeout | undefined;
  #idleTimeoutMs: number;
  #onData = (chunk: Buffer) => this.#receive(chunk);
  // The client's FIN: answer what it already sent (e.g. "DATA ... . QUIT" then FIN), then close.
  #onEnd = () => {
    this.#ended = true;
    if (!this.#busy) this.close('client closed');
  };
  #onClose = () => this.#cleanup('client closed');

  constructor(conn: AcceptedConnection, settings: LineSessionSettings) {
    this.#conn = conn;
    this.#settings = settings;
    this.#events = settings.events ?? IGNORE_SECURITY_EVENTS;
    this.lines = new LineReader(settings.limits.maxLineLength);
    this.#idleTimeoutMs = settings.limits.idleTimeoutMs;
  }

  /**
   * Changes the idle timeout from now on (IMAP: short before login, long after); a running timer is
   * re-armed with the new value. Sessions that never call it keep limits.idleTimeoutMs.
   */
  protected setIdleTimeout(ms: number): void {
    if (ms === this.#idleTimeoutMs) return;
    this.#idleTimeoutMs = ms;
    if (this.#timer && !this.#closed) this.#armTimer();
  }

  /** The connection; a new one after STARTTLS. */
  get conn(): AcceptedConnection {
    return this.#conn;
  }

  protected get closed(): boolean {
    return this.#closed;
  }

  protected get events(): SecurityEventSink {
    return this.#events;
  }

  start(): void {
    this.#attach();
    this.greet();
  }

  /** Sends the greeting (once, at start). */
  protected abstract greet(): void;
  /** A complete line that no expectLine handler claimed: the protocol's command. */
  protected abstract onLine(line: string): Promise<void>;
  /** A line over maxLineLength was skipped (already reported as a `limit` event): say so. */
  protected abstract onLineTooLong(): void;
  /** The idle timer fired (already reported): log, say goodbye, close. */
  protected abstract onTimeout(): void;
  /** A command threw (already logged): say goodbye, close. */
  protected abstract onInternalError(): void;
  /** maxErrors reached (already reported and logged): say goodbye, close. */
  protected abstract onTooManyErrors(): void;
  /** TLS is up on the new connection: forget what the plaintext session established. */
  protected onTlsStarted(): void {}

  /**
   * Handles the next piece of buffered input; false when more input is needed. A protocol with raw
   * input modes (SMTP DATA, IMAP literals) overrides it and falls back to readLine().
   */
  protected step(): Promise<boolean> {
    return this.readLine();
  }

  protected async readLine(): Promise<boolean> {
    const event = this.lines.next();
    if (!event) return false;
    if (event.kind === 'too-long') {
      this.limitReached('line-too-long', `over ${this.#settings.limits.maxLineLength} bytes`);
      this.onLineTooLong();
      return true;
    }
    const continuation = this.#continuation;
    if (continuation) {
      this.#continuation = undefined;
      await continuation(event.line);
      return true;
    }
    await this.onLine(event.line);
    return true;
  }

  /** The next line goes to this function instead of onLine (AUTH exchanges). */
  expectLine(handler: (line: string) => Promise<void> | void): void {
    this.#continuation = handler;
  }

  protected forgetExpectedLine(): void {
    this.#continuation = undefined;
  }

  /** Raw bytes on the wire, unless closed. */
  /**
   * Writes `parts` (corked together) and resolves once the socket has drained, or closed: a large
   * response to a client that does not read (RETR, FETCH 1:*) must not pile up in our memory.
   */
  async writeAndDrain(...parts: (string | Buffer)[]): Promise<void> {
    if (this.#closed) return;
    const socket = this.#conn.socket;
    socket.cork();
    let full = false;
    for (const part of parts) full = !socket.write(part) || full;
    socket.uncork();
    if (!full || this.#closed) return;
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

  write(data: string | Buffer): void {
    if (!this.#closed) this.#conn.socket.write(data);
  }

  /** Reports a limit the client hit as a security event of kind 'limit' (logged, never banned for). */
  limitReached(reason: string, detail?: string): void {
    this.#events.report({ kind: 'limit', reason, connection: this.#conn.info, ...(detail ? { detail } : {}) });
  }

  /** One error the client caused; at maxErrors it is reported as a scan and the session ends. */
  protected countError(): void {
    this.#errors++;
    if (this.#errors < this.#settings.limits.maxErrors || this.#closed) return;
    this.#events.report({ kind: 'scan', reason: 'too-many-errors', connection: this.#conn.info, detail: `${this.#errors} ${this.#settings.errorsCounted}` });
    this.#conn.log.warn({ errors: this.#errors }, `${this.#settings.protocol}: too many errors, closing`);
    this.onTooManyErrors();
  }

  /** The reply accepting the TLS command is written: discard buffered input, handshake, go on. */
  async startTls(): Promise<void> {
    const upgrade = this.#conn.startTls;
    if (!upgrade) return;
    const { protocol, tlsCommand } = this.#settings;
    const old = this.#conn;
    this.#detach();
    // RFC 3207 5, RFC 2595, RFC 3501 6.2.1: anything the client pipelined after the command is
    // discarded (command injection into the encrypted session).
    const discarded = this.lines.takeRest();
    if (discarded.length > 0) old.log.info({ bytes: discarded.length }, `${protocol}: discarded input pipelined after ${tlsCommand}`);
    // Let the accepting reply reach the socket before TLS takes it over.
    await new Promise<void>((resolve) => old.socket.write('', () => resolve()));
    try {
      this.#conn = await upgrade();
    } catch (error) {
      old.log.info({ err: error instanceof Error ? error.message : String(error) }, `${protocol}: ${tlsCommand} handshake failed`);
      this.#closed = true;
      clearTimeout(this.#timer);
      old.onClose('tls handshake failed');
      old.socket.destroy();
      return;
    }
    if (this.#closed) return;
    this.onTlsStarted();
    this.#attach();
  }

  /** Ends the session: the socket is half-closed now and destroyed after a linger. */
  close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#conn.onClose(reason);
    const socket = this.#conn.socket;
    socket.end();
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  }

  #attach(): void {
    const socket = this.#conn.socket;
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('close', this.#onClose);
    socket.on('error', (error: Error) => {
      this.#conn.log.debug({ err: error.message }, 'socket error');
    });
    this.#armTimer();
  }

  #detach(): void {
    const socket = this.#conn.socket;
    socket.off('data', this.#onData);
    socket.off('end', this.#onEnd);
    socket.off('close', this.#onClose);
  }

  #armTimer(): void {
    clearTimeout(this.#timer);
    if (this.#closed) return;
    this.#timer = setTimeout(() => this.#timeout(), this.#idleTimeoutMs);
    this.#timer.unref();
  }

  #timeout(): void {
    if (this.#closed) return;
    // A connection that never sent a command is someone holding sockets open; an idle client is not.
    if (this.commands === 0) {
      this.#events.report({ kind: 'loiter', reason: 'idle-timeout', connection: this.#conn.info });
    } else {
      this.limitReached(this.#settings.timeoutReason, `idle ${this.#idleTimeoutMs}ms after ${this.commands} commands`);
    }
    this.onTimeout();
  }

  #receive(chunk: Buffer): void {
    if (this.#closed) return;
    this.#armTimer();
    this.lines.push(chunk);
    if (this.#busy && this.lines.buffered > HIGH_WATER) this.#conn.socket.pause();
    void this.#pump();
  }

  /** One command at a time: input that arrives meanwhile waits in `lines` (see HIGH_WATER). */
  async #pump(): Promise<void> {
    if (this.#busy || this.#closed) return;
    this.#busy = true;
    try {
      while (!this.#closed && (await this.step()));
    } catch (error) {
      this.#conn.log.error({ err: error instanceof Error ? error.message : String(error) }, `${this.#settings.protocol}: internal error`);
      this.onInternalError();
    } finally {
      this.#busy = false;
    }
    if (this.#closed) return;
    if (this.#ended) return this.close('client closed');
    if (this.#conn.socket.isPaused()) this.#conn.socket.resume();
  }

  #cleanup(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#conn.onClose(reason);
  }
}
