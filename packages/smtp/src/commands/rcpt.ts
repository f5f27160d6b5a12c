import type { SessionContext } from '../context.ts';
import { domainOf, isAscii, isMailbox, parsePathArgument } from '../parser.ts';
import { R } from '../replies.ts';

/**
 * RCPT TO:<recipient>: local domains only; the account must exist, except the postmaster, whom RFC
 * 5321 4.5.1 requires us to accept ("Postmaster" bare and at every local domain): without such an
 * account, that mail goes to the `postmaster` option. A recipient given twice gets one copy.
 */
export async function rcpt(session: SessionContext, args: string): Promise<void> {
  const { options, limits } = session;
  const tx = session.transaction;
  if (!tx) return session.send(R.mailFirst);
  const path = parsePathArgument(args, 'TO');
  if (!path) return session.send(R.syntax('expected RCPT TO:<address>'));
  const [param] = path.params.keys();
  if (param !== undefined) return session.send(R.badParameter(param));
  const recipient = path.address;
  const barePostmaster = recipient.toLowerCase() === 'postmaster';
  if (!barePostmaster && !isMailbox(recipient)) return session.send(R.badAddress);
  if (!isAscii(recipient) && !tx.smtputf8) return session.send(R.utf8NotDeclared);
  if (!barePostmaster) {
    const domain = domainOf(recipient);
    if (!options.domains.some((d) => d.toLowerCase() === domain)) {
      return session.send(options.mode === 'submission' ? R.relayNotOffered : R.relayDenied);
    }
  }

  let target = recipient;
  if (!(await options.accounts.exists(recipient))) {
    const postmaster = barePostmaster || recipient.slice(0, recipient.lastIndexOf('@')).toLowerCase() === 'postmaster';
    if (!postmaster) return session.send(R.noSuchUser);
    target = options.postmaster ?? `postmaster@${options.domains[0] ?? options.hostname}`;
  }
  if (tx.recipients.some((r) => r.toLowerCase() === target.toLowerCase())) return session.send(R.recipientOk);
  if (tx.recipients.length >= limits.maxRecipients) {
    session.limitReached('too-many-recipients', `over ${limits.maxRecipients}`);
    return session.send(R.tooManyRecipients);
  }
  tx.recipients.push(target);
  session.send(R.recipientOk);
}
