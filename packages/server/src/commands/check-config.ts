import { effectiveProxy, formatProblem, loadConfig } from '@portico/config';
import type { Config } from '@portico/config';

/** One line per listener: protocol, binds, TLS mode, proxy mode and the effective trusted networks. */
export function describeListeners(config: Config): string[] {
  const lines: string[] = [];
  for (const [id, listener] of Object.entries(config.server.listener)) {
    const proxy = effectiveProxy(config, listener);
    const tls = listener.tls.implicit ? 'implicit TLS' : listener.tls['terminated-by-proxy'] ? 'TLS terminated by proxy' : listener.protocol === 'http' ? 'plain' : 'STARTTLS';
    const trusted = proxy.trustedNetworks.isEmpty ? 'nobody' : proxy.trustedNetworks.toStrings().join(', ');
    const mode =
      proxy.mode === 'none'
        ? 'none'
        : proxy.mode === 'x-forwarded-for'
          ? `x-forwarded-for (reads the ${proxy.forwardedHeader === 'forwarded' ? 'Forwarded' : 'X-Forwarded-For'} header)`
          : `${proxy.mode} (timeout ${proxy.timeoutMs}ms)`;
    lines.push(
      `${id}: ${listener.protocol} on ${listener.bind.join(', ')}; ${tls}; proxy ${mode}; trusts ${trusted} (from ${proxy.trustSource === 'listener' ? `server.listener.${id}.proxy.trusted-networks` : 'server.proxy.trusted-networks'})`,
    );
  }
  return lines;
}

export function checkConfig(configPath: string, out: (line: string) => void, err: (line: string) => void): number {
  const result = loadConfig(configPath);
  if (!result.ok) {
    for (const problem of result.problems) err(formatProblem(problem));
    err(`${configPath}: ${result.problems.length} problem${result.problems.length === 1 ? '' : 's'}; the server would not start`);
    return 1;
  }
  out(`${configPath}: valid`);
  const lines = describeListeners(result.config);
  if (lines.length === 0) out('no listeners configured');
  for (const line of lines) out(line);
  return 0;
}
