import { spawn } from 'node:child_process';
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';

/** A child process whose stdout and stderr are kept (for assertion messages) and which can be stopped. */
export interface RunningProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** stdout and stderr interleaved, as received. */
  output(): string;
  /** Resolves with the exit code (or signal) once the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly hasExited: () => boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. Safe to call twice. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<RunningProcess>();

/** Kills whatever is still running when the test process exits (a last resort behind the after hooks). */
process.once('exit', () => {
  for (const p of running) {
    try {
      p.child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

export function startProcess(name: string, command: string, args: readonly string[], options: SpawnOptions = {}): RunningProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  let text = '';
  const append = (chunk: Buffer) => {
    text += chunk.toString('utf8');
    if (text.length > 200_000) text = text.slice(-100_000);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('error', (error) => {
      append(Buffer.from(`\n[spawn error] ${error.message}\n`));
      done = true;
      resolve({ code: null, signal: null });
    });
    child.once('exit', (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
  });
  const proc: RunningProcess = {
    name,
    child,
    output: () => text,
    exited,
    hasExited: () => done,
    async stop(graceMs = 2000) {
      running.delete(proc);
      if (done) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (!done) child.kill('SIGKILL');
      }, graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  running.add(proc);
  void exited.then(() => running.delete(proc));
  return proc;
}

/** Runs a command to completion and answers its exit code and output (stdin optional). */
export function runCommand(
  command: string,
  args: readonly string[],
  options: SpawnOptions & { input?: string | Buffer; timeoutMs?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { input, timeoutMs = 15_000, ...spawnOptions } = options;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], ...spawnOptions });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')}: no exit within ${timeoutMs}ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin?.on('error', () => {});
    child.stdin?.end(input);
  });
}

/** Resolves once `host:port` accepts a TCP connection (closed at once); retries until the deadline. */
export async function waitForPort(
  host: string,
  port: number,
  options: { timeoutMs?: number; process?: RunningProcess } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  let lastError = '';
  let delay = 10;
  for (;;) {
    if (options.process?.hasExited()) {
      throw new Error(`${options.process.name} exited before ${host}:${port} was ready:\n${options.process.output()}`);
    }
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ host, port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', (error) => {
        lastError = error.message;
        socket.destroy();
        resolve(false);
      });
    });
    if (ok) return;
    if (Date.now() > deadline) {
      const out = options.process ? `\n${options.process.name} output:\n${options.process.output()}` : '';
      throw new Error(`${host}:${port} not ready in time (${lastError})${out}`);
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 100);
  }
}

/** Polls `check` until it answers true (or a value), or throws `what` at the deadline. */
export async function waitUntil<T>(what: string, check: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let delay = 5;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 50);
  }
}

export interface ConfiguredDaemon {
  readonly process: RunningProcess;
  /** Stops the process, then removes its temp directory. */
  stop(): Promise<void>;
}

/**
 * Writes `config` to `configFile`, starts the daemon in the foreground and waits until it listens on
 * its readiness port (a port that never reaches our server). On failure the process is stopped, the
 * temp directory removed and the error carries the config, the usual cause.
 */
export async function startConfiguredDaemon(options: {
  name: string;
  command: string;
  args: readonly string[];
  config: string;
  configFile: string;
  temp: { path: string; remove(): void };
  ready: { host: string; port: number };
}): Promise<ConfiguredDaemon> {
  writeFileSync(options.configFile, options.config);
  const proc = startProcess(options.name, options.command, options.args, { cwd: options.temp.path });
  try {
    await waitForPort(options.ready.host, options.ready.port, { process: proc, timeoutMs: 10_000 });
  } catch (error) {
    await proc.stop();
    options.temp.remove();
    throw new Error(`${(error as Error).message}\nconfig:\n${options.config}`);
  }
  return {
    process: proc,
    async stop() {
      await proc.stop();
      options.temp.remove();
    },
  };
}
