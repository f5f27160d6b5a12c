// Child process for listener-cpu.bench.ts: the client side, so that it can be kept on its own CPU.
// Each stdin line "<port> <count> [<header hex> | -] [<rate>]" opens <count> connections: connect,
// send the header (if any), end, wait until the server has closed too. Without a rate, 32 at a time,
// as fast as they go (the server is kept busy and handles several connections per wake-up); with a
// rate, <rate> new connections a second, started on a 1 ms clock (each one mostly has the server to
// itself, as on a server that is not saturated). Then it prints "done".
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

async function saturating(port: number, count: number, header: Buffer | undefined): Promise<void> {
  let remaining = count;
  const worker = async () => {
    while (remaining-- > 0) await oneConnection(port, header);
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

async function paced(port: number, count: number, header: Buffer | undefined, perSecond: number): Promise<void> {
  const all: Promise<void>[] = [];
  const startedAt = performance.now();
  while (all.length < count) {
    const due = Math.min(count, Math.floor(((performance.now() - startedAt) / 1000) * perSecond));
    while (all.length < due) all.push(oneConnection(port, header));
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(all);
}

for await (const line of createInterface({ input: process.stdin })) {
  const [port, count, hex, rate] = line.split(' ');
  const header = hex && hex !== '-' ? Buffer.from(hex, 'hex') : undefined;
  if (rate) await paced(Number(port), Number(count), header, Number(rate));
  else await saturating(Number(port), Number(count), header);
  process.stdout.write('done\n');
}
