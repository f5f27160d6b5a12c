import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand, startProcess } from './processes.ts';
import type { RunningProcess } from './processes.ts';
import { makeTempDir } from './temp.ts';

const root = new URL('../../', import.meta.url).pathname;
const cli = join(root, 'packages/server/bin/portico.js');

export interface PorticoLogLine {
  readonly level: number;
  readonly msg: string;
  readonly [key: string]: unknown;
}

export interface RunningPortico {
  readonly dir: string;
  readonly configPath: string;
  readonly process: RunningProcess;
  /** Every JSON log line so far. */
  logs(): PorticoLogLine[];
  /** Resolves with the first log line that matches (checks lines already written, then new ones). */
  waitForLog(match: (line: PorticoLogLine) => boolean, timeoutMs?: number): Promise<PorticoLogLine>;
  /** SIGTERM; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** Runs `portico <args> --config <this config>` to completion. */
  cli(args: string[], input?: string): Promise<{ code: number | null; stdout: string; stderr: string }>;
}

function parseLines(text: string): PorticoLogLine[] {
  const lines: PorticoLogLine[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(line) as PorticoLogLine);
    } catch {
      // a partial line at the end of the buffer
    }
  }
  return lines;
}

/**
 * Starts `portico serve` on a config written into a fresh directory (data-dir relative to it) and
 * resolves once "portico is running" is logged. `configText` is the whole TOML file.
 *
 * Log lines are written as they are made (PORTICO_LOG_FLUSH_MS=0), so that a test can read what
 * the server logged for what it just did, and can trust that a line it does not see was not made.
 * `batchedLogs` keeps the default (lines written in batches, test/serve.test.ts).
 */
export async function startPortico(configText: string, options: { dir?: string; logLevel?: string; batchedLogs?: boolean } = {}): Promise<RunningPortico> {
  const dir = options.dir ?? makeTempDir('portico-e2e-').path;
  const configPath = join(dir, 'portico.toml');
  writeFileSync(configPath, configText);
  const proc = startProcess('portico', process.execPath, [cli, 'serve', '--config', configPath], {
    cwd: dir,
    env: {
      ...process.env,
      PORTICO_LOG_LEVEL: options.logLevel ?? 'debug',
      PORTICO_LOG_FLUSH_MS: options.batchedLogs ? '' : '0',
    },
  });
  const logs = () => parseLines(proc.output());
  const waitForLog = (match: (line: PorticoLogLine) => boolean, timeoutMs = 15_000) =>
    new Promise<PorticoLogLine>((resolve, reject) => {
      const check = () => {
        const found = logs().find(match);
        if (found) {
          cleanup();
          resolve(found);
        } else if (proc.hasExited()) {
          cleanup();
          reject(new Error(`portico exited before the expected log line; output:\n${proc.output()}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no matching log line within ${timeoutMs}ms; output:\n${proc.output()}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        proc.child.stdout?.off('data', check);
        proc.child.off('exit', check);
      };
      proc.child.stdout?.on('data', check);
      proc.child.on('exit', check);
      check();
    });
  await waitForLog((l) => l.msg === 'portico is running');
  return {
    dir,
    configPath,
    process: proc,
    logs,
    waitForLog,
    async stop() {
      // A clean stop takes at most shutdown-timeout; past that the test would hang, so it is killed.
      await proc.stop(20_000);
      return (await proc.exited).code;
    },
    cli(args, input) {
      return runCommand(process.execPath, [cli, ...args, '--config', configPath], { cwd: dir, ...(input === undefined ? {} : { input }), timeoutMs: 30_000 });
    },
  };
}

/** A scrypt hash of "secret-password" for test accounts (made once with `portico hash-password`). */
export const TEST_PASSWORD = 'secret-password';
export const TEST_PASSWORD_HASH = '$scrypt$N=16384,r=8,p=1$hj+GPPqMejYEy8XEbDFEfQ==$21Mi+No6ZaP6y7imSLo8skMkr/Bh1mrJYqX6D5OORfA=';

/**
 * The `[resolver]`, `[mail]` and `[mail.accounts]` sections most tests share: example.test, the given
 * accounts with TEST_PASSWORD, and the test DNS server when there is one.
 */
export function mailSections(options: { accounts: readonly string[]; nameserver?: string }): string {
  const resolver = options.nameserver ? `[resolver]\nnameservers = ["${options.nameserver}"]\n\n` : '';
  const accounts = options.accounts.map((a) => `[mail.accounts."${a}"]\npassword = "${TEST_PASSWORD_HASH}"\n`).join('\n');
  return `${resolver}[mail]\ndomains = ["example.test"]\n\n${accounts}`;
}

/** The `[server]` section of an e2e config: a hostname, data under the test's directory, a quick stop. */
export function serverSection(hostname: string): string {
  return `[server]\nhostname = "${hostname}"\ndata-dir = "data"\nshutdown-timeout = "2s"`;
}

/** A listener on 127.0.0.1; keys written after it (tls.implicit, proxy.*) belong to it. */
export function listenerSection(id: string, protocol: string, port: number): string {
  return `[server.listener.${id}]\nprotocol = "${protocol}"\nbind = ["127.0.0.1:${port}"]`;
}
