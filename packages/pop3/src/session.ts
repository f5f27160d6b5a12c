import type { AcceptedConnection } from '@portico/core';
import { isEncrypted } from '@portico/core';
import { LineSession } from '@portico/listener';
import type { Pop3State, SessionContext } from './context.ts';
import type { Maildrop } from './maildrop.ts';
import { multilineBody, multilineText } from './multiline.ts';
import { formatReply, R } from './replies.ts';
import type { Reply } from './replies.ts';
import { DEFAULT_LIMITS } from './types.ts';
import type { Pop3Limits, Pop3Options } from './types.ts';
import { COMMANDS } from './commands/index.ts';
import { ERR_OPTIONS } from './errors.ts';

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

/** POP3 on the shared line session (@portico/listener): commands, replies and the maildrop. */
class Session extends LineSession implements SessionContext {
  readonly options: Pop3Options;
  readonly limits: Pop3Limits;
  state: Pop3State = 'authorization';
  pendingUser: string | undefined;
  account: string | undefined;
  maildrop: Maildrop | undefined;

  constructor(conn: AcceptedConnection, options: Pop3Options, limits: Pop3Limits) {
    super(conn, { protocol: 'pop3', tlsCommand: 'STLS', timeoutReason: 'idle-timeout', errorsCounted: 'error replies', events: options.events, limits });
    this.options = options;
    this.limits = limits;
  }

  get encrypted(): boolean {
    return isEncrypted(this.conn.info);
  }

  protected override greet(): void {
    this.send(R.greeting(this.options.hostname));
  }

  protected override async onLine(line: string): Promise<void> {
    this.commands++;
    const space = line.indexOf(' ');
    const verb = (space === -1 ? line : line.slice(0, space)).toUpperCase();
    const args = space === -1 ? '' : line.slice(space + 1);
    const command = COMMANDS.get(verb);
    // RFC 1939 7: PASS must follow USER directly; anything else forgets the name.
    const pendingUser = this.pendingUser;
    this.pendingUser = undefined;
    if (!command) {
      // Only a plausible verb is logged: an unknown "verb" may be a SASL response carrying a password.
      this.conn.log.debug({ verb: /^[A-Z]{1,8}$/.test(verb) ? verb : '(not a verb)' }, 'pop3: unknown command');
      return this.send(R.unknownCommand);
    }
    // USER, PASS and AUTH arguments carry credentials: only the verb is ever logged.
    this.conn.log.debug({ verb }, 'pop3: command');
    if (!command.states.includes(this.state)) return this.send(R.wrongState);
    if (verb === 'PASS') this.pendingUser = pendingUser;
    await command.run(this, args);
  }

  /** An AUTH exchange in progress does not survive a line it cannot read. */
  protected override onLineTooLong(): void {
    this.forgetExpectedLine();
    this.send(R.lineTooLong);
  }

  /** RFC 1939 3: the autologout timer closes the session without entering UPDATE (no DELE takes effect). */
  protected override onTimeout(): void {
    this.conn.log.info({ commands: this.commands, state: this.state }, 'pop3: timeout');
    this.close('timeout', R.timeout);
  }

  protected override onInternalError(): void {
    this.close('internal error', R.localError);
  }

  protected override onTooManyErrors(): void {
    this.close('too many errors', R.tooManyErrors);
  }

  /** A fresh AUTHORIZATION state on the new connection: nothing said in plaintext carries over. */
  protected override onTlsStarted(): void {
    this.state = 'authorization';
    this.pendingUser = undefined;
    this.account = undefined;
    this.maildrop = undefined;
    this.forgetExpectedLine();
  }

  send(reply: Reply, countsAsError = true): void {
    if (this.closed) return;
    this.write(formatReply(reply));
    if (countsAsError && !reply.ok) this.countError();
  }

  async sendMultiline(reply: Reply, body: Buffer | readonly string[]): Promise<void> {
    const parts = Buffer.isBuffer(body) ? multilineBody(body) : [Buffer.from(multilineText(body))];
    await this.writeAndDrain(formatReply(reply), ...parts);
  }

  override close(reason: string, reply?: Reply): void {
    if (reply && !this.closed) this.write(formatReply(reply));
    super.close(reason);
  }
}
