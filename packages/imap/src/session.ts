import type { AcceptedConnection } from '@portico/core';
import { isEncrypted } from '@portico/core';
import { LineSession } from '@portico/listener';
import type { ImapState, Selected, SessionContext } from './context.ts';
import { literalAtEnd, parseCommand, ParseError } from './parser.ts';
import { capabilities } from './commands/capability.ts';
import { COMMANDS } from './commands/index.ts';
import { DEFAULT_LIMITS } from './types.ts';
import type { ImapLimits, ImapOptions } from './types.ts';
import { ERR_OPTIONS } from './errors.ts';

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

/** IMAP4rev1 on the shared line session (@portico/listener): commands, literals and responses. */
class Session extends LineSession implements SessionContext {
  readonly options: ImapOptions;
  readonly limits: ImapLimits;
  state: ImapState = 'not-authenticated';
  account: string | undefined;
  selected: Selected | undefined;

  #pending: Pending | undefined;
  #literal: { remaining: number; chunks: Buffer[] } | undefined;
  /** Set while an expectLine handler (AUTHENTICATE) waits: how to answer when its line is lost. */
  #abandon: ((reason: string) => void) | undefined;

  constructor(conn: AcceptedConnection, options: ImapOptions) {
    const limits: ImapLimits = { ...DEFAULT_LIMITS, ...options.limits };
    super(conn, { protocol: 'imap', tlsCommand: 'STARTTLS', timeoutReason: 'idle-timeout', errorsCounted: 'BAD responses', events: options.events, limits });
    this.options = options;
    this.limits = limits;
    this.#updateTimeout();
  }

  get encrypted(): boolean {
    return isEncrypted(this.conn.info);
  }

  protected override greet(): void {
    this.send(`* OK [CAPABILITY ${capabilities(this).join(' ')}] ${this.options.hostname} IMAP4rev1 Portico ready`);
  }

  /**
   * RFC 3501 5.4: the 30-minute autologout applies to authenticated clients; before login, and while
   * a literal or an AUTHENTICATE response is awaited, the shorter loginTimeoutMs does.
   */
  #updateTimeout(): void {
    const waiting = this.state === 'not-authenticated' || this.#literal !== undefined || this.#abandon !== undefined;
    this.setIdleTimeout(waiting ? Math.min(this.limits.loginTimeoutMs, this.limits.idleTimeoutMs) : this.limits.idleTimeoutMs);
  }

  protected override async step(): Promise<boolean> {
    try {
      return await this.#step();
    } finally {
      this.#updateTimeout();
    }
  }

  /** Literal bytes a command announced come raw, before its next line. */
  async #step(): Promise<boolean> {
    if (this.#literal) {
      const literal = this.#literal;
      const input = this.lines.takeRest();
      const take = Math.min(input.length, literal.remaining);
      literal.chunks.push(input.subarray(0, take));
      literal.remaining -= take;
      this.lines.push(input.subarray(take));
      if (literal.remaining > 0) return false;
      this.#literal = undefined;
      this.#pending!.literals.push(Buffer.concat(literal.chunks).toString('utf8'));
      return true;
    }
    return this.readLine();
  }

  protected override onLine(line: string): Promise<void> {
    return this.#collect(line);
  }

  override expectLine(handler: (line: string) => Promise<void> | void, abandon?: (reason: string) => void): void {
    this.#abandon = abandon;
    super.expectLine((line) => {
      this.#abandon = undefined;
      return handler(line);
    });
  }

  protected override onLineTooLong(): void {
    this.#pending = undefined;
    const abandon = this.#abandon;
    // The line a continuation waited for is lost: the next one is a command again.
    this.#abandon = undefined;
    this.forgetExpectedLine();
    if (abandon) return abandon('Line too long'); // a tagged BAD, counted by send()
    this.send('* BAD Line too long');
    this.countError();
  }

  protected override onTimeout(): void {
    this.conn.log.info({ commands: this.commands }, 'imap: autologout');
    this.send('* BYE Autologout; idle for too long');
    this.close('timeout');
  }

  protected override onInternalError(): void {
    this.send('* BYE Internal error, try again later');
    this.close('internal error');
  }

  protected override onTooManyErrors(): void {
    this.send('* BYE Too many errors');
    this.close('too many errors');
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
      this.limitReached('literal-too-large', `${literal.size} bytes`);
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
    this.commands++;
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
    if (this.closed) return;
    this.write(`${line}\r\n`);
    if (/^\S+ BAD /.test(line) && !line.startsWith('* BAD')) this.countError();
  }
}
