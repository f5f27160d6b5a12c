// Small clients for the auto-ban end-to-end tests and the ban-load bench: a greeting probe that
// records the exact bytes a (possibly banned) client receives, a line-based SMTP client with STARTTLS,
// an implicit-TLS probe, an HTTP GET from a chosen source address, swaks, and a private redis-server.
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { request } from 'node:http';
import { freePort } from './ports.ts';
import { runCommand, startProcess, waitForPort } from './processes.ts';
import type { RunningProcess } from './processes.ts';
import { makeTempDir } from './temp.ts';

export interface GreetingProbe {
  /** Every byte the server sent, as latin1 text. */
  readonly bytes: string;
  /** True when a 220 greeting came (we then said QUIT); false when the server closed without one. */
  readonly served: boolean;
  readonly ms: number;
}

/**
 * Connects from `localAddress`, reads until the first line. A "220" greeting counts as served (we
 * answer QUIT and wait for the close); anything else is read until the server closes the connection.
 */
export function probeGreeting(port: number, localAddress: string, host = '127.0.0.1', timeoutMs = 5000): Promise<GreetingProbe> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, localAddress });
    let bytes = '';
    let served = false;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`probe from ${localAddress} to ${host}:${port}: no close within ${timeoutMs}ms; got ${JSON.stringify(bytes)}`));
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      bytes += chunk.toString('latin1');
      if (!served && bytes.startsWith('220') && bytes.includes('\r\n')) {
        served = true;
        socket.end('QUIT\r\n');
      }
    });
    socket.on('error', () => {}); // a reset after the refusal is still "closed"
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ bytes, served, ms: Date.now() - started });
    });
  });
}

export interface TlsProbe {
  readonly handshake: boolean;
  readonly bytes: string;
  readonly served: boolean;
}

/** Implicit TLS from `localAddress`: whether the handshake completed, and what came over TLS before the close. */
export function probeImplicitTls(port: number, localAddress: string, host = '127.0.0.1', timeoutMs = 5000): Promise<TlsProbe> {
  return new Promise((resolve, reject) => {
    // tls.connect has no localAddress option: bind the TCP socket first, then run TLS over it.
    const tcp = connect({ host, port, localAddress });
    tcp.on('error', () => {});
    const socket = tlsConnect({ socket: tcp, rejectUnauthorized: false, servername: 'mail.example.test' });
    let bytes = '';
    let handshake = false;
    let served = false;
    const timer = setTimeout(() => {
      tcp.destroy();
      reject(new Error(`TLS probe from ${localAddress}: no close within ${timeoutMs}ms; got ${JSON.stringify(bytes)}`));
    }, timeoutMs);
    socket.once('secureConnect', () => (handshake = true));
    socket.on('data', (chunk: Buffer) => {
      bytes += chunk.toString('latin1');
      if (!served && bytes.startsWith('220') && bytes.includes('\r\n')) {
        served = true;
        socket.end('QUIT\r\n');
      }
    });
    socket.on('error', () => {});
    tcp.on('close', () => {
      clearTimeout(timer);
      resolve({ handshake, bytes, served });
    });
  });
}

export interface HttpResult {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** GET `path` from `localAddress` on a fresh connection (no keep-alive agent). */
export function httpGet(port: number, path: string, localAddress: string, host = '127.0.0.1', timeoutMs = 5000): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, localAddress, agent: false, headers: { connection: 'close' }, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} from ${localAddress}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}

export interface SmtpReply {
  readonly code: number;
  /** The whole reply, every line, CRLFs included. */
  readonly text: string;
}

/** A minimal SMTP client: one reply at a time, STARTTLS, and the raw bytes for assertions. */
export class SmtpClient {
  #socket: Socket | TLSSocket;
  #buffer = '';
  #closed = false;
  #waiter: (() => void) | undefined;
  /** Everything received, in order (plain and over TLS). */
  received = '';

  private constructor(socket: Socket) {
    this.#socket = socket;
    this.#attach(socket);
  }

  static connect(options: { port: number; host?: string; localAddress?: string; timeoutMs?: number }): Promise<SmtpClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: options.host ?? '127.0.0.1', port: options.port, ...(options.localAddress ? { localAddress: options.localAddress } : {}) });
      socket.setTimeout(options.timeoutMs ?? 10_000, () => socket.destroy(new Error('SMTP client: timed out')));
      socket.once('connect', () => resolve(new SmtpClient(socket)));
      socket.once('error', reject);
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  #attach(socket: Socket | TLSSocket): void {
    socket.on('data', (chunk: Buffer) => {
      const text = chunk.toString('latin1');
      this.#buffer += text;
      this.received += text;
      this.#wake();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      if (socket !== this.#socket) return;
      this.#closed = true;
      this.#wake();
    });
  }

  #wake(): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.();
  }

  /** The next complete reply, or undefined when the server closed first. */
  async reply(): Promise<SmtpReply | undefined> {
    for (;;) {
      const match = /^(?:\d{3}-[^\r\n]*\r\n)*\d{3}(?: [^\r\n]*)?\r\n/.exec(this.#buffer);
      if (match) {
        this.#buffer = this.#buffer.slice(match[0].length);
        return { code: Number(match[0].slice(0, 3)), text: match[0] };
      }
      if (this.#closed) return undefined;
      await new Promise<void>((r) => (this.#waiter = r));
    }
  }

  async command(line: string): Promise<SmtpReply | undefined> {
    if (this.#closed) return undefined;
    this.#socket.write(`${line}\r\n`);
    return this.reply();
  }

  write(text: string): void {
    if (!this.#closed) this.#socket.write(text);
  }

  /** STARTTLS (the 220 must be answered already); resolves after the handshake. */
  async startTls(): Promise<void> {
    const reply = await this.command('STARTTLS');
    if (reply?.code !== 220) throw new Error(`STARTTLS refused: ${JSON.stringify(reply)}`);
    const plain = this.#socket as Socket;
    plain.removeAllListeners('data');
    const secured = tlsConnect({ socket: plain, rejectUnauthorized: false, servername: 'mail.example.test' });
    this.#socket = secured;
    this.#attach(secured);
    plain.on('close', () => {
      this.#closed = true;
      this.#wake();
    });
    await new Promise<void>((resolve, reject) => {
      secured.once('secureConnect', resolve);
      secured.once('error', reject);
    });
  }

  /** Resolves once the server has closed the connection. */
  async closedByServer(): Promise<void> {
    while (!this.#closed) await new Promise<void>((r) => (this.#waiter = r));
  }

  destroy(): void {
    this.#socket.destroy();
  }
}

/** AUTH PLAIN initial response for user/password. */
export function authPlain(user: string, password: string): string {
  return Buffer.from(`\0${user}\0${password}`).toString('base64');
}

/** Runs swaks to completion (exit code and the whole transcript). */
export async function swaks(args: readonly string[]): Promise<{ code: number | null; transcript: string }> {
  const result = await runCommand('swaks', ['--timeout', '10', ...args], { timeoutMs: 20_000 });
  return { code: result.code, transcript: result.stdout + result.stderr };
}

export interface RunningRedis {
  readonly port: number;
  readonly url: string;
  readonly process: RunningProcess;
  stop(): Promise<void>;
}

/** A private redis-server on a free loopback port, no persistence, its files in a temp dir. */
export async function startRedis(): Promise<RunningRedis> {
  const port = await freePort();
  const temp = makeTempDir('redis');
  const proc = startProcess(
    'redis-server',
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', temp.path, '--protected-mode', 'no'],
    { cwd: temp.path },
  );
  await waitForPort('127.0.0.1', port, { process: proc, timeoutMs: 10_000 });
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    process: proc,
    async stop() {
      await proc.stop();
      temp.remove();
    },
  };
}
