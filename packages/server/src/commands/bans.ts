import { dirname, resolve } from 'node:path';
import { formatProblem, loadConfig } from '@portico/config';
import { NetworkList, PorticoError } from '@portico/core';
import { addBan, formatBan, listBans, removeBan } from '@portico/autoban';
import { allTrustedNetworks, openBanStore, openRedis } from '../policies.ts';

/** `portico bans list|add|remove`: works on the configured ban store, also while the server runs. */
export async function bansCommand(
  configPath: string,
  args: string[],
  flags: Readonly<Record<string, string | boolean | undefined>>,
  out: (line: string) => void,
  err: (line: string) => void,
): Promise<number> {
  const [action, address] = args;
  if (action !== 'list' && action !== 'add' && action !== 'remove') {
    err('usage: portico bans list | bans add IP [--duration 7d] [--reason TEXT] | bans remove IP');
    return 2;
  }
  if (action !== 'list' && !address) {
    err(`portico bans ${action}: which IP? e.g. portico bans ${action} 192.0.2.7`);
    return 2;
  }
  const result = loadConfig(configPath);
  if (!result.ok) {
    for (const problem of result.problems) err(formatProblem(problem));
    return 1;
  }
  const config = result.config;
  const dataDir = resolve(dirname(resolve(configPath)), config.server['data-dir']);
  const redis = openRedis(config);
  const store = openBanStore(config, dataDir, redis);
  try {
    if (action === 'list') {
      const bans = await listBans(store);
      if (bans.length === 0) out('no bans');
      for (const ban of bans) out(formatBan(ban));
    } else if (action === 'add') {
      const duration = typeof flags.duration === 'string' ? flags.duration : config.server['auto-ban'].duration;
      const reason = typeof flags.reason === 'string' ? flags.reason : 'manual';
      const ban = await addBan(store, address!, duration, reason, {
        allowedIps: NetworkList.parse(config.server['auto-ban']['allowed-ips']),
        trustedNetworks: allTrustedNetworks(config),
      });
      out(`banned ${formatBan(ban)}`);
    } else {
      const removed = await removeBan(store, address!);
      out(removed ? `removed the ban of ${address}` : `${address} was not banned`);
    }
    return 0;
  } catch (error) {
    if (error instanceof PorticoError) {
      err(`portico bans ${action}: ${error.message}`);
      return 1;
    }
    throw error;
  } finally {
    await store.close();
    redis?.disconnect();
  }
}
