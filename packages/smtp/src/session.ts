import type { AcceptedConnection } from '@portico/core';
import { LineSession } from '@portico/listener';
import type { SessionContext, Transaction } from './context.ts';
import { DataReader } from './data-reader.ts';
import { parseCommand } from './parser.ts';
import { formatReply, isError, R } from './replies.ts';
import type { Reply } from './replies.ts';
import { DEFAULT_LIMITS } from './types.ts';
import type { SmtpLimits, SmtpOptions } from './types.ts';
import { COMMANDS } from './commands/index.ts';
import { finishData } from './commands/data.ts';
import { ERR_OPTIONS } from './errors.ts';

/**
 * Runs one SMTP or submission session on a connection the listener accepted. Sends the greeting at
 * once. Throws PORTICO_ERR_SMTP_OPTIONS only for an invalid mode (a wiring mistake); after that, every
 * failure ends in a reply or a closed socket, never an exception.
 */
export function handleSmtpSession(conn: AcceptedConnection, options: SmtpOptions): void {
  if (options.mode !== 'smtp' && options.mode !== 'submission') throw ERR_OPTIONS(`mode must be "smtp" or "submission"`);
  new Session(conn, options).start();
}

/** SMTP on the shared line session (@portico/listener): commands, replies, DATA and BDAT input. */
class Session extends LineSession implements SessionContext {
  readonly options: SmtpOptions;
  readonly limits: SmtpLimits;
  helo: string | undefined;
  esmtp = false;
  account: string | undefined;
  transaction: Transaction | undefined;

  #data: DataReader | undefined;
  #chunk: { remaining: number; into: Buffer[] | undefined; done: () => Promise<void> | void } | undefined;

  constructor(conn: AcceptedConnection, options: SmtpOptions) {
    const limits: SmtpLimits = { ...DEFAULT_LIMITS, ...options.limits };
    // SMTP's idle limit is per command (commandTimeoutMs); the shared session calls it idleTimeoutMs.
    const lineLimits = { ...limits, idleTimeoutMs: limits.commandTimeoutMs };
    super(conn, { protocol: 'smtp', tlsCommand: 'STARTTLS', timeoutReason: 'command-timeout', errorsCounted: 'error replies', events: options.events, limits: lineLimits });
    this.options = options;
    this.limits = limits;
  }

  get encrypted(): boolean {
    return this.conn.info.tls !== null;
  }

  protected override greet(): void {
    this.send(R.greeting(this.options.hostname));
  }

  /** BDAT chunk bytes and DATA content come raw, before any line. */
  protected override async step(): Promise<boolean> {
    if (this.#chunk) {
      const chunk = this.#chunk;
      const input = this.lines.takeRest();
      const take = Math.min(input.length, chunk.remaining);
      if (take > 0) chunk.into?.push(input.subarray(0, take));
      chunk.remaining -= take;
      this.lines.push(input.subarray(take));
      if (chunk.remaining > 0) return false;
      this.#chunk = undefined;
      await chunk.done();
      return true;
    }
    if (this.#data) {
      const result = this.#data.push(this.lines.takeRest());
      if (!result) return false;
      this.#data = undefined;
      this.lines.push(result.rest);
      await finishData(this, result);
      return true;
    }
    return this.readLine();
  }

  protected override async onLine(line: string): Promise<void> {
    this.commands++;
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

  protected override onLineTooLong(): void {
    this.send(R.lineTooLong);
  }

  protected override onTimeout(): void {
    this.conn.log.info({ commands: this.commands }, 'smtp: timeout');
    this.close('timeout', R.timeout(this.options.hostname));
  }

  protected override onInternalError(): void {
    this.close('internal error', R.localError);
  }

  protected override onTooManyErrors(): void {
    this.close('too many errors', R.tooManyErrors(this.options.hostname));
  }

  /** A new session state: the client must say EHLO again (RFC 3207 4.2). */
  protected override onTlsStarted(): void {
    this.helo = undefined;
    this.esmtp = false;
    this.account = undefined;
    this.transaction = undefined;
  }

  send(reply: Reply, countsAsError = true): void {
    if (this.closed) return;
    this.write(formatReply(reply));
    if (countsAsError && isError(reply) && reply.code !== 421) this.countError();
  }

  beginData(): void {
    this.#data = new DataReader(this.limits.maxMessageSize);
  }

  readChunk(size: number, into: Buffer[] | undefined, done: () => Promise<void> | void): void {
    this.#chunk = { remaining: size, into, done };
  }

  override close(reason: string, reply?: Reply): void {
    if (reply && !this.closed) this.write(formatReply(reply));
    super.close(reason);
  }
}
