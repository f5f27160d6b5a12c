// Child process for the listener benchmarks: a bare net.Server or a Portico listener on 127.0.0.1:0.
// Prints its port, then answers each stdin line with one line: "cpu" with its CPU time in
// microseconds; "allocations-start" starts V8's sampling heap profiler (objects young and full
// collections freed are counted too) and "allocations" answers the bytes allocated since then.
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

/** Loaded only when allocations are counted, so that the CPU measurements run without it. */
let profiler: import('node:inspector/promises').Session | undefined;
interface ProfileNode {
  selfSize: number;
  children: ProfileNode[];
}
const allocated = (node: ProfileNode): number => node.children.reduce((sum, child) => sum + allocated(child), node.selfSize);

async function answer(command: string): Promise<string> {
  switch (command) {
    case 'cpu': {
      const usage = process.cpuUsage();
      return String(usage.user + usage.system);
    }
    case 'allocations-start': {
      const { Session } = await import('node:inspector/promises');
      profiler = new Session();
      profiler.connect();
      // A sample every 64 bytes on average; selfSize is V8's estimate of all bytes allocated there.
      await profiler.post('HeapProfiler.startSampling', {
        samplingInterval: 64,
        includeObjectsCollectedByMinorGC: true,
        includeObjectsCollectedByMajorGC: true,
      });
      return 'started';
    }
    case 'allocations': {
      const { profile } = await profiler!.post('HeapProfiler.stopSampling');
      profiler!.disconnect();
      return String(allocated(profile.head as ProfileNode));
    }
    default:
      return `unknown command ${command}`;
  }
}

let pending = '';
process.stdin.on('data', async (chunk: Buffer) => {
  pending += chunk.toString();
  let nl;
  while ((nl = pending.indexOf('\n')) !== -1) {
    const command = pending.slice(0, nl);
    pending = pending.slice(nl + 1);
    process.stdout.write(`${await answer(command)}\n`);
  }
});
// Closing stdin ends the process normally (so that --cpu-prof can write its profile).
process.stdin.on('end', () => process.exit(0));
