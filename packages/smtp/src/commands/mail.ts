import type { SessionContext } from '../context.ts';
import { isAscii, isMailbox, parsePathArgument } from '../parser.ts';
import { R, verdictReply } from '../replies.ts';
import { settleVerdict } from './policy.ts';

/** MAIL FROM:<sender> [SIZE=n] [BODY=7BIT|8BITMIME] [SMTPUTF8] [AUTH=...] */
export async function mail(session: SessionContext, args: string): Promise<void> {
  const { options, limits, conn } = session;
  if (!session.helo) return session.send(R.heloFirst);
  if (options.mode === 'submission' && !session.account) return session.send(R.authRequired);
  if (session.transaction) return session.send(R.nestedMail);
  const path = parsePathArgument(args, 'FROM');
  if (!path) return session.send(R.syntax('expected MAIL FROM:<address>'));
  const sender = path.address;
  if (sender !== '' && !isMailbox(sender)) return session.send(R.badAddress);

  let smtputf8 = false;
  for (const [key, value] of path.params) {
    if (key === 'SIZE') {
      if (value === undefined || !/^\d{1,15}$/.test(value)) return session.send(R.syntax('SIZE=<bytes>'));
      if (Number(value) > limits.maxMessageSize) return session.send(R.sizeExceeded(limits.maxMessageSize));
    } else if (key === 'BODY') {
      if (value === undefined || !['7BIT', '8BITMIME'].includes(value.toUpperCase())) return session.send(R.badParameter('BODY'));
    } else if (key === 'SMTPUTF8' && value === undefined && session.esmtp) {
      smtputf8 = true;
    } else if (key === 'AUTH' && options.mode === 'submission') {
      // RFC 4954 5: the AUTH parameter is accepted and ignored (we know who is authenticated).
    } else {
      return session.send(R.badParameter(key));
    }
  }
  if (!isAscii(sender) && !smtputf8) return session.send(R.utf8NotDeclared);

  if (options.mode === 'submission' && sender.toLowerCase() !== session.account) {
    conn.log.info({ account: session.account }, 'smtp: sender not owned by the authenticated account');
    return session.send(R.senderNotOwned(session.account!));
  }

  if (options.admitMessage) {
    const verdict = await options.admitMessage(conn.info, sender);
    const refusal = await settleVerdict(session, verdict);
    if (refusal) {
      conn.log.info({ reason: verdict.kind === 'refuse' ? verdict.reason : '' }, 'smtp: MAIL refused by policy');
      return session.send(refusal);
    }
  }

  if (options.mode === 'smtp' && options.mailAuth) {
    try {
      const spf = await options.mailAuth.checkSpf({ ip: conn.info.client.address, helo: session.helo, sender });
      conn.log.info({ spf: spf.result }, 'smtp: SPF at MAIL FROM');
      const refusal = verdictReply(spf.verdict);
      if (refusal) return session.send(refusal);
    } catch (error) {
      conn.log.error({ err: error instanceof Error ? error.message : String(error) }, 'smtp: SPF check failed');
      return session.send(R.localError);
    }
  }

  session.transaction = { sender, recipients: [], smtputf8 };
  session.send(R.senderOk);
}
