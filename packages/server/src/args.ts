import { parseArgs } from 'node:util';

export interface CommandLine {
  readonly command: string | undefined;
  readonly rest: string[];
  readonly configPath: string;
  readonly flags: Readonly<Record<string, string | boolean | undefined>>;
}

export const USAGE = `usage: portico <command> [--config FILE]

commands:
  serve                         run every listener in the config
  check-config                  validate the config; print each listener and whom it trusts
  hash-password                 read a password on stdin, print a scrypt hash for mail.accounts
  bans list                     list the bans of the configured store
  bans add IP [--duration 7d] [--reason TEXT]
  bans remove IP

options:
  --config FILE                 the config file (default config.toml)`;

export function parseCommandLine(argv: string[]): CommandLine {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: 'string' },
      duration: { type: 'string' },
      reason: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  return {
    command: values.help ? 'help' : positionals[0],
    rest: positionals.slice(1),
    configPath: values.config ?? 'config.toml',
    flags: values,
  };
}
