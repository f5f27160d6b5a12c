// Test helper (not exported): a throw-away redis-server on a free loopback port.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { once } from 'node:events';

export interface TestRedis {
  readonly port: number;
  readonly url: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Resolves once the server answers PING with +PONG; rejects if the process exits first. */
function waitForPong(port: number, child: ChildProcess, deadline: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve();
    };
    const onExit = (code: number | null) => finish(new Error(`redis-server exited (${code}) before it was ready`));
    child.on('exit', onExit);
    const attempt = () => {
      if (settled) return;
      if (Date.now() > deadline) return finish(new Error('redis-server was not ready in time'));
      const socket = connect(port, '127.0.0.1');
      let reply = '';
      socket.setEncoding('utf8');
      socket.on('connect', () => socket.write('PING\r\n'));
      socket.on('data', (chunk: string) => {
        reply += chunk;
        if (reply.includes('\r\n')) {
          socket.destroy();
          if (reply.startsWith('+PONG')) finish();
          else setImmediate(attempt); // e.g. -LOADING: ask again
        }
      });
      // Not listening yet: try again once the refused connection is cleaned up.
      socket.on('error', () => {
        socket.destroy();
        setImmediate(attempt);
      });
    };
    // Redis says when it is ready; connecting then confirms it (no fixed sleeps).
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (text: string) => {
      if (text.includes('Ready to accept connections')) attempt();
    });
    attempt();
  });
}

export async function startRedis(): Promise<TestRedis> {
  let lastError: unknown;
  for (let tries = 0; tries < 3; tries++) {
    const port = await freePort();
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      await waitForPong(port, child, Date.now() + 5000);
    } catch (error) {
      lastError = error;
      child.kill('SIGKILL');
      continue;
    }
    child.stdout?.resume();
    child.stderr?.resume();
    return {
      port,
      url: `redis://127.0.0.1:${port}`,
      async stop() {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        await exited;
      },
    };
  }
  throw lastError;
}
