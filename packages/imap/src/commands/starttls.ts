import type { CommandSpec } from './index.ts';

/** RFC 3501 6.2.1. The session discards input pipelined after the command and goes on over TLS. */
export const starttls: CommandSpec = {
  states: ['not-authenticated'],
  async run(session, tag, args) {
    if (args.length > 0) return session.send(`${tag} BAD STARTTLS takes no arguments`);
    if (session.encrypted) return session.send(`${tag} BAD TLS is already active`);
    if (!session.conn.startTls) return session.send(`${tag} NO [UNAVAILABLE] TLS is not available`);
    session.send(`${tag} OK Begin TLS negotiation now`);
    await session.startTls();
  },
};
