// The shipped proxy configs: HAProxy and NGINX are checked by the real binaries; Traefik cannot be
// installed here, so its config is checked statically against what Portico needs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import toml from 'toml';
import { loadConfig, formatProblem } from '../packages/config/src/index.ts';

const root = new URL('../', import.meta.url).pathname;
const read = (path: string) => readFileSync(join(root, path), 'utf8');

function porticoConfig() {
  const result = loadConfig(join(root, 'deploy/portico.toml'));
  if (!result.ok) assert.fail(result.problems.map(formatProblem).join('\n'));
  return result.config;
}

/** Port -> listener of deploy/portico.toml. */
function listenerPorts() {
  const ports = new Map<number, { id: string; implicit: boolean; protocol: string }>();
  for (const [id, l] of Object.entries(porticoConfig().server.listener)) {
    for (const bind of l.bind) ports.set(Number(bind.split(':').pop()), { id, implicit: l.tls.implicit, protocol: l.protocol });
  }
  return ports;
}

test('deploy/portico.toml is valid and trusts only the proxy network', () => {
  const config = porticoConfig();
  assert.deepEqual(config.server.proxy['trusted-networks'], ['172.30.0.0/24']);
});

test('deploy/haproxy.cfg passes haproxy -c and sends PROXY v2 to every mail listener', () => {
  const text = read('deploy/haproxy.cfg');
  const dir = mkdtempSync(join(tmpdir(), 'portico-deploy-'));
  writeFileSync(join(dir, 'haproxy.cfg'), text.replaceAll('portico:', '127.0.0.1:'));
  const check = spawnSync('haproxy', ['-c', '-f', join(dir, 'haproxy.cfg')], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stdout + check.stderr);
  const ports = listenerPorts();
  for (const m of text.matchAll(/server \S+ portico:(\d+)([^\n]*)/g)) {
    const listener = ports.get(Number(m[1]));
    assert.ok(listener, `haproxy points at port ${m[1]}, which no listener binds`);
    if (listener.protocol !== 'http') assert.match(m[2]!, /send-proxy-v2/, `backend for ${listener.id} sends PROXY v2`);
  }
});

test('deploy/nginx.conf passes nginx -t and enables proxy_protocol on every stream server', () => {
  const text = read('deploy/nginx.conf');
  const dir = mkdtempSync(join(tmpdir(), 'portico-deploy-'));
  mkdirSync(join(dir, 'logs'));
  const conf = text.replaceAll('portico:', '127.0.0.1:').replace(/listen (\d+);/g, (_m, p) => `listen 127.0.0.1:${20000 + Number(p)};`);
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const check = spawnSync('nginx', ['-t', '-p', dir, '-c', join(dir, 'nginx.conf'), '-g', `pid ${dir}/nginx.pid; error_log stderr;`], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stdout + check.stderr);
  const servers = [...text.matchAll(/server \{([^}]*)\}/g)].map((m) => m[1]!);
  assert.ok(servers.length >= 3);
  for (const server of servers) assert.match(server, /proxy_protocol on;/);
});

test('deploy/traefik: TCP routers for server-speaks-first mail, PROXY protocol to the right ports, TLS passed through to implicit-TLS listeners', () => {
  const staticConfig = toml.parse(read('deploy/traefik/traefik.toml'));
  const dynamic = toml.parse(read('deploy/traefik/dynamic.toml'));
  const entryPoints = Object.keys(staticConfig.entryPoints);
  const ports = listenerPorts();
  const routers = dynamic.tcp.routers as Record<string, { entryPoints: string[]; rule: string; service: string; tls?: { passthrough?: boolean } }>;
  const services = dynamic.tcp.services as Record<string, { loadBalancer: { proxyProtocol?: { version: number }; servers: { address: string }[] } }>;
  assert.ok(Object.keys(routers).length >= 3);
  for (const [name, router] of Object.entries(routers)) {
    for (const entryPoint of router.entryPoints) assert.ok(entryPoints.includes(entryPoint), `${name}: entry point ${entryPoint} is defined`);
    assert.equal(router.rule, 'HostSNI(`*`)', `${name}: mail is server-speaks-first; only HostSNI(\`*\`) works`);
    const service = services[router.service];
    assert.ok(service, `${name}: service ${router.service} exists`);
    assert.ok([1, 2].includes(service.loadBalancer.proxyProtocol?.version ?? 0), `${name}: sends PROXY protocol`);
    for (const server of service.loadBalancer.servers) {
      const listener = ports.get(Number(server.address.split(':').pop()));
      assert.ok(listener, `${name}: ${server.address} is a Portico listener`);
      assert.equal(Boolean(router.tls?.passthrough), listener.implicit, `${name}: TLS passthrough exactly for implicit-TLS listener ${listener.id}`);
      assert.equal(Boolean(router.tls) && !router.tls?.passthrough, false, `${name}: Traefik sends no SSL TLV; do not terminate TLS there`);
    }
  }
});

test('docker-compose.yml puts the proxy inside the network Portico trusts', () => {
  const compose = read('docker-compose.yml');
  assert.match(compose, /subnet: 172\.30\.0\.0\/24/);
  assert.match(compose, /deploy\/portico\.toml/);
  assert.match(compose, /ipv4_address: 172\.30\.0\.2/);
});
