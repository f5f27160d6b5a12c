// Child process for listener-cpu.bench.ts: the client side, so that it can be kept on its own CPU.
// Each stdin line "<port> <count> [<header hex>]" opens <count> connections, 32 at a time: connect,
// send the header (if any), end, wait until the server has closed too. Then it prints "done".
import { connect } from 'node:net';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

const CONCURRENCY = 32;

async function oneConnection(port: number, header: Buffer | undefined): Promise<void> {
  const socket = connect({ port, host: '127.0.0.1' });
  socket.on('error', () => {});
  socket.resume();
  await once(socket, 'connect');
  if (header) socket.end(header);
  else socket.end();
  await once(socket, 'close');
}

for await (const line of createInterface({ input: process.stdin })) {
  const [port, count, hex] = line.split(' ');
  const header = hex ? Buffer.from(hex, 'hex') : undefined;
  let remaining = Number(count);
  const worker = async () => {
    while (remaining-- > 0) await oneConnection(Number(port), header);
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  process.stdout.write('done\n');
}
