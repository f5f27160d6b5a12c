// Child process for listener-cpu.bench.ts: a bare net.Server or a Portico listener on 127.0.0.1:0.
// Prints its port; answers "cpu" on stdin with its CPU time in microseconds.
// Neither does anything with a connection but read it until the client closes, so that the
// difference is what the listener adds (PROXY header, trust, ConnectionInfo, limits, logging).
import { createServer } from 'node:net';
import { NetworkList, ALLOW } from '../packages/core/src/index.ts';
import { startListener } from '../packages/listener/src/index.ts';
// The logger users get (same options, lines written in batches, PORTICO_LOG_LEVEL), to /dev/null.
import { createLogger } from '../packages/server/src/logger.ts';
import { batchedDestination } from '../packages/server/src/log-destination.ts';

const kind = process.argv[2];
let port: number;
if (kind === 'bare' || kind === 'bare-peer' || kind === 'bare-peer-close') {
  // Same socket options as the listener's net.Server, so only the per-connection work differs.
  // The two variants do the first things any server that knows its clients must do: ask the
  // kernel for the peer's address (getpeername), and listen for 'close' to count the connection out.
  const askPeer = kind !== 'bare';
  const listenForClose = kind === 'bare-peer-close';
  let open = 0;
  const server = createServer({ noDelay: true }, (socket) => {
    socket.on('error', () => {});
    if (askPeer && socket.remoteAddress === undefined) socket.destroy();
    if (listenForClose) {
      open++;
      socket.on('close', () => open--);
    }
    socket.resume();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
} else {
  const listener = await startListener({
    id: 'bench',
    bind: ['127.0.0.1:0'],
    proxy: { mode: kind === 'direct' ? 'none' : 'proxy-protocol', trustedNetworks: NetworkList.parse(['127.0.0.1']), timeoutMs: 5000 },
    tls: { implicit: false, terminatedByProxy: false },
    maxConnections: 100_000,
    maxConnectionsPerIp: 100_000,
    errors: { proxyTimeout: 'x\r\n', proxyRefused: 'x\r\n', tooManyConnections: 'x\r\n', refused: () => 'x\r\n' },
    logger: createLogger(batchedDestination('/dev/null')),
    admit: () => ALLOW,
    onConnection(conn) {
      conn.socket.resume();
    },
  });
  port = listener.addresses[0]!.port;
}
process.stdout.write(`${port}\n`);
process.stdin.on('data', () => {
  const usage = process.cpuUsage();
  process.stdout.write(`${usage.user + usage.system}\n`);
});
// Closing stdin ends the process normally (so that --cpu-prof can write its profile).
process.stdin.on('end', () => process.exit(0));
