import { defineError } from '@portico/core';

export const ERR_CONFIG_READ = defineError(
  'PORTICO_ERR_CONFIG_READ',
  (file: string, reason: string) => `${file}: cannot read the config file: ${reason}`,
);
export const ERR_CONFIG_INVALID = defineError(
  'PORTICO_ERR_CONFIG_INVALID',
  (file: string, problems: readonly string[]) =>
    `${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'} in the config\n${problems.join('\n')}`,
);
