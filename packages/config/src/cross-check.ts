import type { ParsedConfig } from './schema.ts';

/** Rules that span keys: the schema checks each value, these check how values go together. */
export function crossCheck(config: ParsedConfig): { path: PropertyKey[]; message: string }[] {
  const problems: { path: PropertyKey[]; message: string }[] = [];
  const seenBinds = new Map<string, string>();
  for (const [id, listener] of Object.entries(config.server.listener)) {
    const base = ['server', 'listener', id];
    if (listener.proxy.mode === 'x-forwarded-for' && listener.protocol !== 'http') {
      problems.push({
        path: [...base, 'proxy', 'mode'],
        message: `"x-forwarded-for" works only on http listeners (this one speaks ${listener.protocol}); use "proxy-protocol" or "none"`,
      });
    }
    if (listener.proxy['forwarded-header'] !== undefined && listener.protocol !== 'http') {
      problems.push({
        path: [...base, 'proxy', 'forwarded-header'],
        message: `works only on http listeners (this one speaks ${listener.protocol})`,
      });
    }
    if (listener.tls.implicit && listener.tls['terminated-by-proxy']) {
      problems.push({
        path: [...base, 'tls', 'terminated-by-proxy'],
        message: 'cannot be true together with tls.implicit: either the proxy terminates TLS or this server does',
      });
    }
    listener.bind.forEach((bind, index) => {
      const other = seenBinds.get(bind);
      if (other) problems.push({ path: [...base, 'bind', index], message: `${JSON.stringify(bind)} is also bound by listener "${other}"` });
      else if (!bind.endsWith(':0')) seenBinds.set(bind, id);
    });
  }
  for (const address of Object.keys(config.mail.accounts)) {
    const domain = address.slice(address.lastIndexOf('@') + 1).toLowerCase();
    if (!config.mail.domains.map((d) => d.toLowerCase()).includes(domain)) {
      problems.push({ path: ['mail', 'accounts', address], message: `the domain "${domain}" is not in mail.domains` });
    }
  }
  const postmaster = config.mail.postmaster;
  if (postmaster !== undefined) {
    const domain = postmaster.slice(postmaster.lastIndexOf('@') + 1).toLowerCase();
    if (!config.mail.domains.map((d) => d.toLowerCase()).includes(domain)) {
      problems.push({ path: ['mail', 'postmaster'], message: `the domain "${domain}" is not in mail.domains` });
    }
  }
  if (config.store.backend === 'redis' && !config.store.url) {
    problems.push({ path: ['store', 'url'], message: 'is required when store.backend = "redis" (e.g. "redis://127.0.0.1:6379")' });
  }
  const tls = config.server.tls;
  if ((tls.certificate === undefined) !== (tls['private-key'] === undefined)) {
    problems.push({ path: ['server', 'tls', tls.certificate === undefined ? 'certificate' : 'private-key'], message: 'certificate and private-key go together: set both or neither' });
  }
  return problems;
}
