import type { SessionContext } from '../context.ts';
import { domainOf, isAscii, isMailbox, parsePathArgument } from '../parser.ts';
import { R } from '../replies.ts';

/** RCPT TO:<recipient>: local domains only; the account must exist. */
export async function rcpt(session: SessionContext, args: string): Promise<void> {
  const { options, limits } = session;
  const tx = session.transaction;
  if (!tx) return session.send(R.mailFirst);
  const path = parsePathArgument(args, 'TO');
  if (!path) return session.send(R.syntax('expected RCPT TO:<address>'));
  const [param] = path.params.keys();
  if (param !== undefined) return session.send(R.badParameter(param));
  const recipient = path.address;
  // RFC 5321 4.5.1: "Postmaster" (no domain) and postmaster@ every local domain must be accepted.
  const postmaster = recipient.toLowerCase() === 'postmaster' || isLocalPostmaster(recipient, options.domains);
  if (postmaster && !(await options.accounts.exists(recipient))) {
    if (tx.recipients.length >= limits.maxRecipients) return session.send(R.tooManyRecipients);
    tx.recipients.push(options.postmaster ?? `postmaster@${options.domains[0] ?? options.hostname}`);
    return session.send(R.recipientOk);
  }
  if (!isMailbox(recipient)) return session.send(R.badAddress);
  if (!isAscii(recipient) && !tx.smtputf8) return session.send(R.utf8NotDeclared);
  if (tx.recipients.length >= limits.maxRecipients) return session.send(R.tooManyRecipients);

  const domain = domainOf(recipient);
  if (!options.domains.some((d) => d.toLowerCase() === domain)) {
    return session.send(options.mode === 'submission' ? R.relayNotOffered : R.relayDenied);
  }
  if (!(await options.accounts.exists(recipient))) return session.send(R.noSuchUser);
  tx.recipients.push(recipient);
  session.send(R.recipientOk);
}

function isLocalPostmaster(recipient: string, domains: readonly string[]): boolean {
  const at = recipient.lastIndexOf('@');
  if (at === -1 || recipient.slice(0, at).toLowerCase() !== 'postmaster') return false;
  const domain = recipient.slice(at + 1).toLowerCase();
  return domains.some((d) => d.toLowerCase() === domain);
}
