import { USAGE, parseCommandLine } from './args.ts';
import { createLogger } from './logger.ts';
import { checkConfig } from './commands/check-config.ts';
import { hashPasswordCommand } from './commands/hash-password.ts';
import { serve } from './commands/serve.ts';
import { bansCommand } from './commands/bans.ts';

const out = (line: string) => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);

async function main(argv: string[]): Promise<number> {
  let commandLine;
  try {
    commandLine = parseCommandLine(argv);
  } catch (error) {
    err(`portico: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  switch (commandLine.command) {
    case 'serve': {
      let logger;
      try {
        logger = createLogger();
      } catch (error) {
        err(`portico: not starting: ${(error as Error).message}`);
        return 1;
      }
      return serve(commandLine.configPath, logger, err);
    }
    case 'check-config':
      return checkConfig(commandLine.configPath, out, err);
    case 'hash-password':
      return hashPasswordCommand(out, err);
    case 'bans':
      return bansCommand(commandLine.configPath, commandLine.rest, commandLine.flags, out, err);
    case 'help':
      out(USAGE);
      return 0;
    default:
      err(commandLine.command ? `portico: unknown command "${commandLine.command}"\n\n${USAGE}` : USAGE);
      return 2;
  }
}

process.exitCode = await main(process.argv.slice(2));
