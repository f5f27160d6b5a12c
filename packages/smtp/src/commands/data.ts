import { randomBytes } from 'node:crypto';
import { IGNORE_SECURITY_EVENTS } from '@portico/core';
import type { SessionContext } from '../context.ts';
import type { DataResult } from '../data-reader.ts';
import { receivedHeader, returnPathHeader } from '../received-header.ts';
import { R, reply, verdictReply } from '../replies.ts';

export function data(session: SessionContext, args: string): void {
  if (args.trim() !== '') return session.send(R.syntax('DATA takes no parameters'));
  const tx = session.transaction;
  if (!tx) return session.send(R.mailFirst);
  if (tx.recipients.length === 0) return session.send(R.noValidRecipients);
  // RFC 3030 2: DATA and BDAT do not mix in one transaction.
  if (tx.chunks) return session.send(reply(503, '5.5.1 DATA after BDAT; finish with BDAT <size> LAST'));
  session.send(R.startData);
  session.beginData();
}

/** After CRLF.CRLF: refuse, or authenticate, add trace fields and store for every recipient, then 250. */
export async function finishData(session: SessionContext, result: Omit<DataResult, 'rest'>): Promise<void> {
  const { options, conn } = session;
  const tx = session.transaction;
  session.transaction = undefined;
  if (!tx) return session.send(R.mailFirst);
  if (result.tooBig) {
    conn.log.info({ size: result.size }, 'smtp: message too big');
    session.limitReached('message-too-big', `${result.size} bytes`);
    return session.send(R.sizeExceeded(session.limits.maxMessageSize));
  }
  if (result.bareLineEnding) {
    (options.events ?? IGNORE_SECURITY_EVENTS).report({
      kind: 'scan',
      reason: 'smtp-smuggling',
      connection: conn.info,
      detail: 'bare CR or LF in DATA',
    });
    conn.log.warn('smtp: message with bare CR or LF refused (smuggling protection)');
    return session.send(R.bareLineEnding);
  }

  const helo = session.helo ?? '';
  const ip = conn.info.client.address;
  let authResults = '';
  let reverseName: string | undefined;
  if (options.mode === 'smtp' && options.mailAuth) {
    const mailAuth = options.mailAuth;
    try {
      const [outcome, rdns] = await Promise.all([
        mailAuth.authenticate({ message: result.message, ip, helo, sender: tx.sender }),
        mailAuth.reverseName ? mailAuth.reverseName(ip) : Promise.resolve(undefined),
      ]);
      reverseName = rdns;
      const refusal = verdictReply(outcome.verdict);
      if (refusal) {
        conn.log.info({ reason: outcome.verdict.kind === 'refuse' ? outcome.verdict.reason : '' }, 'smtp: message refused by mail authentication');
        return session.send(refusal);
      }
      authResults = outcome.header;
    } catch (error) {
      conn.log.error({ err: error instanceof Error ? error.message : String(error) }, 'smtp: mail authentication failed');
      return session.send(R.localError);
    }
  }

  const id = randomBytes(9).toString('base64url');
  const trace =
    returnPathHeader(tx.sender) +
    receivedHeader({
      info: conn.info,
      hostname: options.hostname,
      helo,
      esmtp: session.esmtp,
      authenticated: session.account !== undefined,
      ...(reverseName ? { reverseName } : {}),
      sender: tx.sender,
      recipients: tx.recipients,
      id,
    }) +
    authResults;
  const stored = Buffer.concat([Buffer.from(trace, 'utf8'), result.message]);
  for (const recipient of tx.recipients) {
    try {
      await options.deliver(recipient, stored);
    } catch (error) {
      conn.log.error({ id, err: error instanceof Error ? error.message : String(error) }, 'smtp: delivery failed');
      return session.send(R.storeFailed);
    }
  }
  conn.log.info({ id, recipients: tx.recipients.length, size: result.size, account: session.account }, 'smtp: message stored');
  session.send(R.queued(id));
}
