// HTTP end to end: the real `portico serve` with http listeners behind real proxies (NGINX 1.22 http
// reverse proxy, HAProxy 2.6 in mode http with option forwardfor, HAProxy mode tcp with send-proxy-v2),
// real clients (curl bound to 127.0.0.x with --interface, Node's http/https clients for JMAP) on
// loopback. The proxies live on 127.0.0.1, the only trusted address; every client uses another
// 127.0.0.x, so a test can tell the proxy from the client. Each test asserts what the user sees: the
// JSON of GET /api/connection, the JMAP answers (RFC 8620/8621, raw requests, no JMAP library), and
// what an upstream behind a proxied route receives.
import { test, describe, before, after } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { checkServerIdentity } from 'node:tls';
import type { PeerCertificate } from 'node:tls';
import { startPortico, TEST_PASSWORD, mailSections, listenerSection, serverSection } from './support/portico.ts';
import type { RunningPortico } from './support/portico.ts';
import { startHaproxy } from './support/haproxy.ts';
import { startNginxHttp } from './support/nginx-http.ts';
import type { RunningNginxHttp } from './support/nginx-http.ts';
import { makeSelfSignedCertificate } from './support/certs.ts';
import type { TestCertificate } from './support/certs.ts';
import { freePorts } from './support/ports.ts';
import { runCommand } from './support/processes.ts';
import { explained, explainOnFailure, stopAfter } from './support/cleanup.ts';
import { SmtpClient } from './support/mail-probes.ts';
import { startTestDnsServer } from '../packages/mailauth/src/test-dns-server.ts';
import type { TestDnsServer } from '../packages/mailauth/src/test-dns-server.ts';

const HOST = 'mail.example.test';
const ACCOUNT = 'a@example.test';
const SENDER = 'someone@example.org';
/** Where every proxy runs: the only trusted address. */
const PROXY = '127.0.0.1';
const HAPROXY_CLIENT = '127.0.0.5';
const NGINX_CLIENT = '127.0.0.6';
/** A client talking TLS straight to the implicit-TLS listener. */
const TLS_CLIENT = '127.0.0.7';
const SMTP_CLIENT = '127.0.0.8';
/** A client talking plain HTTP straight to the plain listener, lying in every forwarding header. */
const DIRECT_CLIENT = '127.0.0.9';
const SPOOFED = '1.2.3.4';
const CORE = 'urn:ietf:params:jmap:core';
const MAIL = 'urn:ietf:params:jmap:mail';
const BASIC = `Basic ${Buffer.from(`${ACCOUNT}:${TEST_PASSWORD}`).toString('base64')}`;
/** Every forwarding header a client could use to lie about itself. */
const LIES: Readonly<Record<string, string>> = {
  'X-Forwarded-For': SPOOFED,
  Forwarded: `for=${SPOOFED};proto=https;host=evil.example.org`,
  'X-Forwarded-Proto': 'https',
  'X-Forwarded-Host': 'evil.example.org',
  'X-Forwarded-Port': '443',
  'X-Real-IP': SPOOFED,
};

interface ConnectionJson {
  id: string;
  listener: string;
  client: { address: string; port: number };
  server: { address: string; port: number };
  peer: { address: string; port: number };
  via: string;
  tls: null | { terminatedBy: string; version?: string; cipher?: string; sni?: string };
  ignored?: string;
}

interface CurlResult {
  code: number | null;
  status: number;
  headers: string;
  body: string;
  localIp: string;
  localPort: number;
  /** curl -v output (the TLS lines are there). */
  stderr: string;
}

/**
 * curl from `args` (include --interface), headers and body on stdout (`-D -`), and on a last line the
 * status and our own address and port (curl knows them, we do not).
 */
async function curl(t: TestContext, args: readonly string[]): Promise<CurlResult> {
  const result = await runCommand('curl', [
    '--silent', '--show-error', '--verbose', '--max-time', '10', '--dump-header', '-',
    '--write-out', '\n%{http_code} %{local_ip} %{local_port}',
    ...args,
  ]);
  explainOnFailure(t, `curl ${args.join(' ')}`, () => `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  assert.equal(result.code, 0, `curl failed: ${result.stderr}`);
  const cut = result.stdout.lastIndexOf('\n');
  const [status = '0', localIp = '', localPort = '0'] = result.stdout.slice(cut + 1).split(' ');
  const text = result.stdout.slice(0, cut);
  const headEnd = text.indexOf('\r\n\r\n');
  return {
    code: result.code,
    status: Number(status),
    headers: headEnd === -1 ? text : text.slice(0, headEnd + 2),
    body: headEnd === -1 ? '' : text.slice(headEnd + 4),
    localIp,
    localPort: Number(localPort),
    stderr: result.stderr,
  };
}

/** curl -H arguments for every lie in LIES. */
function lyingHeaders(): string[] {
  return Object.entries(LIES).flatMap(([name, value]) => ['-H', `${name}: ${value}`]);
}

function connectionOf(result: CurlResult): ConnectionJson {
  assert.equal(result.status, 200, `GET /api/connection answered ${result.status}: ${result.body}`);
  assert.match(result.headers, /\r\ncache-control: no-store\r\n/i);
  return JSON.parse(result.body) as ConnectionJson;
}

/** The TLS version curl negotiated, from its -v line "SSL connection using TLSv1.3 / TLS_AES_256_GCM_SHA384". */
function curlTlsVersion(result: CurlResult): string {
  const match = /SSL connection using (TLSv1\.[0-3]) \//.exec(result.stderr);
  assert.ok(match, `no TLS line in curl's output:\n${result.stderr}`);
  return match[1]!;
}

interface HttpReply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * One HTTP(S) request on a fresh connection from `localAddress`, the way a client without a JMAP
 * library does it: the URL as given (a host name is looked up in our "DNS", `connectTo`), the
 * certificate checked against the test CA and the URL's host name.
 */
function send(
  url: string,
  options: { localAddress: string; method?: string; headers?: Record<string, string>; body?: string; ca?: string; connectTo?: string },
): Promise<HttpReply> {
  const u = new URL(url);
  const tls = u.protocol === 'https:';
  const hostname = u.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve, reject) => {
    const req = (tls ? httpsRequest : httpRequest)(
      {
        host: options.connectTo ?? hostname,
        port: Number(u.port || (tls ? 443 : 80)),
        path: `${u.pathname}${u.search}`,
        method: options.method ?? 'GET',
        localAddress: options.localAddress,
        agent: false,
        headers: { host: u.host, ...options.headers },
        timeout: 10_000,
        // SNI and the certificate check follow the URL's host name, never a Host header we override.
        ...(tls
          ? { ca: options.ca, ...(isIP(hostname) ? {} : { servername: hostname }), checkServerIdentity: (_: string, c: PeerCertificate) => checkServerIdentity(hostname, c) }
          : {}),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${options.method ?? 'GET'} ${url}: timed out`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

function problemOf(reply: HttpReply): Record<string, unknown> {
  assert.match(String(reply.headers['content-type']), /^application\/problem\+json/);
  return JSON.parse(reply.body) as Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------------
// One portico for the whole file (started once: ~2 s), one NGINX in front of its plain listener, one
// upstream behind its /webmail route, one DNS server for its SMTP checks. HAProxy is started per test.

let cert: TestCertificate;
let dns: TestDnsServer;
let upstream: { server: Server; port: number; seen: { url: string; headers: IncomingHttpHeaders }[] };
let portico: RunningPortico;
let nginx: RunningNginxHttp;
let ports: { web: number; webs: number; webpp: number; mx: number };
/** server.public-url: a host name (pointing at 127.0.0.1) and the implicit-TLS listener's port. */
let publicUrl: string;

before(async () => {
  const [web, webs, webpp, mx] = (await freePorts(4)) as [number, number, number, number];
  ports = { web, webs, webpp, mx };
  publicUrl = `https://${HOST}:${webs}`;
  [cert, dns] = await Promise.all([
    makeSelfSignedCertificate(HOST),
    startTestDnsServer({ 'example.org': { TXT: ['v=spf1 ip4:127.0.0.0/8 -all'] } }),
  ]);
  // The upstream of /webmail: answers every request with what it received.
  const seen: { url: string; headers: IncomingHttpHeaders }[] = [];
  const server = createServer((req, res) => {
    const record = { url: req.url ?? '', headers: req.headers };
    seen.push(record);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(record));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  upstream = { server, port: (server.address() as { port: number }).port, seen };
  portico = await startPortico(`${serverSection(HOST)}
public-url = "${publicUrl}"

[server.tls]
certificate = "${cert.certFile}"
private-key = "${cert.keyFile}"

[server.proxy]
trusted-networks = ["${PROXY}"]

# Plain HTTP behind NGINX / HAProxy mode http: X-Forwarded-For (the default for http) from 127.0.0.1.
${listenerSection('web', 'http', ports.web)}

# HTTPS terminated by Portico itself.
${listenerSection('webs', 'http', ports.webs)}
tls.implicit = true

# Behind HAProxy mode tcp: PROXY v2 from 127.0.0.1.
${listenerSection('webpp', 'http', ports.webpp)}
proxy.mode = "proxy-protocol"

# Mail comes in straight from the sender (nobody trusted).
${listenerSection('mx', 'smtp', ports.mx)}
proxy.trusted-networks = []

[http.routes."/webmail"]
upstream = "http://127.0.0.1:${upstream.port}"

${mailSections({ accounts: [ACCOUNT], nameserver: dns.address })}`);
  nginx = await startNginxHttp({ backend: { host: '127.0.0.1', port: ports.web }, tls: { certFile: cert.certFile, keyFile: cert.keyFile } });
});

after(async () => {
  await nginx?.stop();
  await portico?.stop();
  if (upstream) await new Promise((resolve) => upstream.server.close(resolve));
  await dns?.close();
  cert?.remove();
});

function explainServers(t: TestContext): void {
  explainOnFailure(t, 'portico log', () => portico.process.output());
  explainOnFailure(t, 'nginx config', () => nginx.config);
  explainOnFailure(t, 'nginx output', () => nginx.output());
}

describe('GET /api/connection behind real proxies: the client is the user, never the proxy, and TLS is the user\'s leg', () => {
  test('NGINX http reverse proxy terminating TLS (X-Forwarded-For + X-Forwarded-Proto $scheme): client 127.0.0.6 from the header, TLS terminated by the proxy', explained(async (t) => {
    explainServers(t);
    const result = await curl(t, ['--interface', NGINX_CLIENT, '--cacert', cert.certFile, `https://${PROXY}:${nginx.tlsPort}/api/connection?probe=nginx-tls`]);
    assert.equal(curlTlsVersion(result).startsWith('TLSv1.'), true);
    const info = connectionOf(result);
    assert.equal(info.listener, 'web');
    // XFF carries no port: the client's port is unknown (0), never the proxy's.
    assert.deepEqual(info.client, { address: NGINX_CLIENT, port: 0 });
    assert.equal(info.via, 'x-forwarded-for');
    assert.equal(info.peer.address, PROXY);
    assert.notEqual(info.peer.port, result.localPort, 'the peer is NGINX\'s own connection');
    assert.deepEqual(info.server, { address: '127.0.0.1', port: ports.web });
    assert.deepEqual(info.tls, { terminatedBy: 'proxy' });
    assert.equal(info.ignored, undefined);
    // The server's own log names the same client for that request, with the proxy as peer.
    const logged = await portico.waitForLog((l) => l.msg === 'incoming request' && (l.req as { url?: string } | undefined)?.url === '/api/connection?probe=nginx-tls');
    assert.equal(logged.client, `${NGINX_CLIENT}:0`);
    assert.match(String(logged.peer), /^127\.0\.0\.1:\d+$/);
    assert.equal(logged.via, 'x-forwarded-for');
    assert.equal(logged.tls, 'proxy');

    // A client that puts its own X-Forwarded-For in front: NGINX appends the real address, the walk
    // from the right stops at the first untrusted hop, the lie is left of it.
    const lying = connectionOf(await curl(t, ['--interface', NGINX_CLIENT, '--cacert', cert.certFile, '-H', `X-Forwarded-For: ${SPOOFED}`, `https://${PROXY}:${nginx.tlsPort}/api/connection`]));
    assert.deepEqual(lying.client, { address: NGINX_CLIENT, port: 0 });
    assert.deepEqual(lying.tls, { terminatedBy: 'proxy' });
  }));

  test('the same NGINX, plain http server: client 127.0.0.6, tls null (X-Forwarded-Proto http), even when the client itself claims https', explained(async (t) => {
    explainServers(t);
    const info = connectionOf(await curl(t, ['--interface', NGINX_CLIENT, `http://${PROXY}:${nginx.port}/api/connection`]));
    assert.equal(info.listener, 'web');
    assert.deepEqual(info.client, { address: NGINX_CLIENT, port: 0 });
    assert.equal(info.via, 'x-forwarded-for');
    assert.equal(info.peer.address, PROXY);
    assert.equal(info.tls, null);

    // NGINX's proxy_set_header replaces the client's X-Forwarded-Proto with $scheme.
    const lying = connectionOf(await curl(t, ['--interface', NGINX_CLIENT, '-H', 'X-Forwarded-Proto: https', '-H', `X-Forwarded-For: ${SPOOFED}`, `http://${PROXY}:${nginx.port}/api/connection`]));
    assert.deepEqual(lying.client, { address: NGINX_CLIENT, port: 0 });
    assert.equal(lying.tls, null);

    // NGINX passes a client's own RFC 7239 Forwarded through untouched: the listener reads only
    // X-Forwarded-For (proxy.forwarded-header), so that header cannot set the address or the TLS state.
    const forged = connectionOf(await curl(t, ['--interface', NGINX_CLIENT, '-H', `Forwarded: for=${SPOOFED};proto=https`, `http://${PROXY}:${nginx.port}/api/connection`]));
    assert.deepEqual(forged.client, { address: NGINX_CLIENT, port: 0 });
    assert.equal(forged.via, 'x-forwarded-for');
    assert.equal(forged.tls, null);
    assert.equal(forged.ignored, 'Forwarded ignored: only X-Forwarded-For is read on this listener');
  }));

  test('HAProxy mode http + option forwardfor, a plain and a TLS bind (X-Forwarded-Proto set from ssl_fc), backend connections reused across clients: each request reports its own client and TLS state', explained(async (t) => {
    explainServers(t);
    const [tlsPort] = (await freePorts(1)) as [number];
    const proxy = stopAfter(t, await startHaproxy({
      mode: 'http',
      backend: { host: '127.0.0.1', port: ports.web },
      frontendLines: [
        `bind ${PROXY}:${tlsPort} ssl crt ${cert.combinedFile}`,
        'option forwardfor',
        'http-request set-header X-Forwarded-Proto https if { ssl_fc }',
        'http-request set-header X-Forwarded-Proto http if !{ ssl_fc }',
      ],
      backendLines: ['http-reuse always'],
    }));
    explainOnFailure(t, 'haproxy config', () => proxy.config);
    explainOnFailure(t, 'haproxy output', () => proxy.output());

    const overTls = await curl(t, ['--interface', HAPROXY_CLIENT, '--cacert', cert.certFile, `https://${PROXY}:${tlsPort}/api/connection`]);
    curlTlsVersion(overTls);
    const tlsInfo = connectionOf(overTls);
    assert.equal(tlsInfo.listener, 'web');
    assert.deepEqual(tlsInfo.client, { address: HAPROXY_CLIENT, port: 0 });
    assert.equal(tlsInfo.via, 'x-forwarded-for');
    assert.equal(tlsInfo.peer.address, PROXY);
    assert.deepEqual(tlsInfo.tls, { terminatedBy: 'proxy' });

    // Plain, from another client, lying about everything: HAProxy appends the real address to the
    // client's X-Forwarded-For and overwrites X-Forwarded-Proto with http.
    const plain = connectionOf(await curl(t, ['--interface', NGINX_CLIENT, '-H', `X-Forwarded-For: ${SPOOFED}`, '-H', 'X-Forwarded-Proto: https', `http://${PROXY}:${proxy.port}/api/connection`]));
    assert.deepEqual(plain.client, { address: NGINX_CLIENT, port: 0 });
    assert.equal(plain.via, 'x-forwarded-for');
    assert.equal(plain.tls, null);
    // option forwardfor leaves a client's own Forwarded header alone; it must not count.
    const forged = connectionOf(await curl(t, ['--interface', NGINX_CLIENT, '-H', `Forwarded: for=${SPOOFED};proto=https`, `http://${PROXY}:${proxy.port}/api/connection`]));
    assert.deepEqual(forged.client, { address: NGINX_CLIENT, port: 0 });
    assert.equal(forged.tls, null);

    // And the first client again, plain this time.
    const again = connectionOf(await curl(t, ['--interface', HAPROXY_CLIENT, `http://${PROXY}:${proxy.port}/api/connection`]));
    assert.deepEqual(again.client, { address: HAPROXY_CLIENT, port: 0 });
    assert.equal(again.tls, null);
    // http-reuse always: HAProxy sent the three clients' requests over one kept-alive connection to
    // Portico (same connection id), so the client really is resolved per request, not per connection.
    assert.equal(new Set([tlsInfo.id, plain.id, again.id]).size, 1, `connection ids ${tlsInfo.id} ${plain.id} ${again.id}`);
  }));

  test('HAProxy mode tcp + send-proxy-v2-ssl to a proxy-protocol listener: client address and port from PROXY v2, TLS version from its SSL TLV, forwarded headers ignored', explained(async (t) => {
    explainServers(t);
    const [tlsPort] = (await freePorts(1)) as [number];
    const proxy = stopAfter(t, await startHaproxy({
      backend: { host: '127.0.0.1', port: ports.webpp },
      serverOptions: 'send-proxy-v2-ssl',
      frontendLines: [`bind ${PROXY}:${tlsPort} ssl crt ${cert.combinedFile}`],
    }));
    explainOnFailure(t, 'haproxy config', () => proxy.config);
    explainOnFailure(t, 'haproxy output', () => proxy.output());

    const plainResult = await curl(t, ['--interface', HAPROXY_CLIENT, ...lyingHeaders(), `http://${PROXY}:${proxy.port}/api/connection`]);
    const plain = connectionOf(plainResult);
    assert.equal(plain.listener, 'webpp');
    assert.deepEqual(plain.client, { address: HAPROXY_CLIENT, port: plainResult.localPort });
    assert.equal(plain.via, 'proxy-v2');
    assert.equal(plain.peer.address, PROXY);
    assert.deepEqual(plain.server, { address: PROXY, port: proxy.port }, 'the address the client connected to, from the PROXY header');
    assert.equal(plain.tls, null, 'X-Forwarded-Proto: https from the client changes nothing');

    const tlsResult = await curl(t, ['--interface', HAPROXY_CLIENT, '--cacert', cert.certFile, ...lyingHeaders(), `https://${PROXY}:${tlsPort}/api/connection`]);
    const version = curlTlsVersion(tlsResult);
    const overTls = connectionOf(tlsResult);
    assert.equal(overTls.listener, 'webpp');
    assert.deepEqual(overTls.client, { address: HAPROXY_CLIENT, port: tlsResult.localPort });
    assert.equal(overTls.via, 'proxy-v2');
    assert.deepEqual(overTls.server, { address: PROXY, port: tlsPort });
    assert.deepEqual(overTls.tls, { terminatedBy: 'proxy', version });
  }));

  test('an untrusted client sending its own PROXY header (curl --haproxy-protocol) to the proxy-protocol listener: 400, refused and reported as a scan', explained(async (t) => {
    explainServers(t);
    const result = await curl(t, ['--interface', DIRECT_CLIENT, '--haproxy-protocol', `http://127.0.0.1:${ports.webpp}/api/connection`]);
    assert.equal(result.status, 400);
    assert.equal(result.body, 'PROXY protocol header refused\n');
    const event = await portico.waitForLog((l) => l.msg === 'security event' && l.reason === 'untrusted-proxy-header' && l.client === DIRECT_CLIENT);
    assert.equal(event.listener, 'webpp');
    assert.equal(event.event, 'scan');
  }));

  test('a client straight to the plain listener claiming X-Forwarded-For / Forwarded / X-Forwarded-Proto https: reported as itself (127.0.0.9 and its port), tls null, and told why', explained(async (t) => {
    explainServers(t);
    const result = await curl(t, ['--interface', DIRECT_CLIENT, ...lyingHeaders(), `http://127.0.0.1:${ports.web}/api/connection`]);
    const info = connectionOf(result);
    assert.equal(info.listener, 'web');
    assert.deepEqual(info.client, { address: DIRECT_CLIENT, port: result.localPort });
    assert.deepEqual(info.peer, { address: DIRECT_CLIENT, port: result.localPort });
    assert.equal(info.via, 'direct');
    assert.equal(info.tls, null);
    assert.equal(info.ignored, `peer ${DIRECT_CLIENT} is not a trusted proxy`);

    // Straight to the implicit-TLS listener, claiming plain http and another address: Portico's own
    // TLS state and the socket's address stand.
    const tlsResult = await curl(t, [
      '--interface', TLS_CLIENT, '--cacert', cert.certFile, '--resolve', `${HOST}:${ports.webs}:127.0.0.1`,
      '-H', `X-Forwarded-For: ${SPOOFED}`, '-H', 'X-Forwarded-Proto: http', `https://${HOST}:${ports.webs}/api/connection`,
    ]);
    const version = curlTlsVersion(tlsResult);
    const overTls = connectionOf(tlsResult);
    assert.equal(overTls.listener, 'webs');
    assert.deepEqual(overTls.client, { address: TLS_CLIENT, port: tlsResult.localPort });
    assert.equal(overTls.via, 'direct');
    assert.equal(overTls.tls?.terminatedBy, 'server');
    assert.equal(overTls.tls?.version, version);
    assert.equal(overTls.tls?.sni, HOST);
    assert.equal(overTls.ignored, `peer ${TLS_CLIENT} is not a trusted proxy`);
  }));
});

describe('JMAP (RFC 8620/8621) with raw HTTP requests', () => {
  /** A request to Portico over TLS the way a JMAP client does it: `publicUrl`'s host name resolves to 127.0.0.1. */
  function overTls(url: string, options: { method?: string; headers?: Record<string, string>; body?: string; localAddress?: string } = {}): Promise<HttpReply> {
    return send(url, { localAddress: TLS_CLIENT, ca: cert.cert, connectTo: '127.0.0.1', ...options });
  }

  async function session(): Promise<Record<string, unknown>> {
    const reply = await overTls(`${publicUrl}/.well-known/jmap`, { headers: { authorization: BASIC } });
    assert.equal(reply.status, 200, reply.body);
    return JSON.parse(reply.body) as Record<string, unknown>;
  }

  /** POSTs a JMAP Request to the session's apiUrl; answers the methodResponses. */
  async function api(apiUrl: string, methodCalls: unknown[]): Promise<[string, Record<string, unknown>, string][]> {
    const reply = await overTls(apiUrl, {
      method: 'POST',
      headers: { authorization: BASIC, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ using: [CORE, MAIL], methodCalls }),
    });
    assert.equal(reply.status, 200, reply.body);
    assert.match(String(reply.headers['content-type']), /^application\/json/);
    const body = JSON.parse(reply.body) as { methodResponses: [string, Record<string, unknown>, string][]; sessionState: string };
    assert.equal(typeof body.sessionState, 'string');
    for (const [name, args] of body.methodResponses) assert.notEqual(name, 'error', `method error: ${JSON.stringify(args)}`);
    return body.methodResponses;
  }

  /** One message over SMTP to the mx listener, from 127.0.0.8; answers its queued id. */
  async function deliver(subject: string, bodyLines: readonly string[]): Promise<string> {
    const client = await SmtpClient.connect({ port: ports.mx, localAddress: SMTP_CLIENT });
    try {
      assert.equal((await client.reply())?.code, 220, client.received);
      assert.equal((await client.command('EHLO client.example.org'))?.code, 250, client.received);
      assert.equal((await client.command(`MAIL FROM:<${SENDER}>`))?.code, 250, client.received);
      assert.equal((await client.command(`RCPT TO:<${ACCOUNT}>`))?.code, 250, client.received);
      assert.equal((await client.command('DATA'))?.code, 354, client.received);
      const message = [
        `From: Some One <${SENDER}>`,
        `To: <${ACCOUNT}>`,
        `Subject: ${subject}`,
        `Message-ID: <${subject.replace(/\W+/g, '.')}@example.org>`,
        `Date: ${new Date().toUTCString().replace('GMT', '+0000')}`,
        'MIME-Version: 1.0',
        'Content-Type: text/plain; charset=utf-8',
        'Content-Transfer-Encoding: quoted-printable',
        '',
        ...bodyLines,
      ].join('\r\n');
      const done = await client.command(`${message}\r\n.`);
      assert.equal(done?.code, 250, client.received);
      const id = /queued as ([A-Za-z0-9_-]+)/.exec(done.text)?.[1];
      assert.ok(id, done.text);
      await client.command('QUIT');
      return id;
    } finally {
      client.destroy();
    }
  }

  test('the Session resource: every URL comes from server.public-url, whatever Host / X-Forwarded-Host / X-Forwarded-Proto / Forwarded the request carries, direct or through NGINX and HAProxy', explained(async (t) => {
    explainServers(t);
    const haproxy = stopAfter(t, await startHaproxy({
      mode: 'http',
      backend: { host: '127.0.0.1', port: ports.web },
      bindOptions: `ssl crt ${cert.combinedFile}`,
      frontendLines: ['option forwardfor', 'http-request set-header X-Forwarded-Proto https if { ssl_fc }'],
    }));
    explainOnFailure(t, 'haproxy output', () => haproxy.output());
    const evil = { 'X-Forwarded-Host': 'evil.example.org', 'X-Forwarded-Port': '8443', Forwarded: 'host=evil.example.org;proto=http' };
    const variants: { name: string; reply: () => Promise<HttpReply> }[] = [
      { name: 'direct, plain request', reply: () => overTls(`${publicUrl}/.well-known/jmap`, { headers: { authorization: BASIC } }) },
      { name: 'direct, /jmap/session', reply: () => overTls(`${publicUrl}/jmap/session`, { headers: { authorization: BASIC } }) },
      {
        name: 'direct, Host and forwarding headers naming another host and http',
        reply: () => overTls(`${publicUrl}/.well-known/jmap`, { headers: { authorization: BASIC, host: 'evil.example.org:8080', 'X-Forwarded-Proto': 'http', ...evil } }),
      },
      {
        name: 'through NGINX TLS (trusted), Host and X-Forwarded-Host of the client passed on',
        reply: () => send(`https://${PROXY}:${nginx.tlsPort}/.well-known/jmap`, {
          localAddress: NGINX_CLIENT, ca: cert.cert, headers: { authorization: BASIC, host: 'evil.example.org', 'X-Forwarded-Host': 'evil.example.org', 'X-Forwarded-Port': '8443' },
        }),
      },
      {
        name: 'through HAProxy mode http TLS (trusted), the client\'s Host passed on as is',
        reply: () => send(`https://${PROXY}:${haproxy.port}/jmap/session`, {
          localAddress: HAPROXY_CLIENT, ca: cert.cert, headers: { authorization: BASIC, host: 'evil.example.org:9999', 'X-Forwarded-Host': 'evil.example.org' },
        }),
      },
    ];
    const sessions: Record<string, unknown>[] = [];
    for (const variant of variants) {
      const reply = await variant.reply();
      assert.equal(reply.status, 200, `${variant.name}: ${reply.status} ${reply.body}`);
      const body = JSON.parse(reply.body) as Record<string, unknown>;
      assert.deepEqual(
        { apiUrl: body.apiUrl, downloadUrl: body.downloadUrl, uploadUrl: body.uploadUrl, eventSourceUrl: body.eventSourceUrl },
        {
          apiUrl: `https://${HOST}:${ports.webs}/jmap/api`,
          downloadUrl: `https://${HOST}:${ports.webs}/jmap/download/{accountId}/{blobId}/{name}?accept={type}`,
          uploadUrl: `https://${HOST}:${ports.webs}/jmap/upload/{accountId}/`,
          eventSourceUrl: `https://${HOST}:${ports.webs}/jmap/eventsource?types={types}&closeafter={closeafter}&ping={ping}`,
        },
        variant.name,
      );
      sessions.push(body);
    }
    for (const [i, body] of sessions.entries()) assert.deepEqual(body, sessions[0], `${variants[i]!.name}: the whole Session resource is the same`);
    assert.doesNotMatch(JSON.stringify(sessions), /evil|127\.0\.0\.1|http:/);
  }));

  test('SMTP in, JMAP out over TLS: Mailbox/get, Email/query inMailbox by receivedAt, Email/get with bodyValues, Email/set $seen, Email/changes', explained(async (t) => {
    explainServers(t);
    const token = `jmap-e2e-${Date.now()}`;
    const subject = `Hello over SMTP ${token}`;
    const started = Date.now() - 1000;
    await deliver(subject, ['Gr=C3=BC=C3=9Fe aus dem Test,', `token ${token}.`, '', 'Second paragraph.']);

    // RFC 8620 2: the Session resource.
    const s = await session();
    const accountId = (s.primaryAccounts as Record<string, string>)[MAIL]!;
    assert.ok(accountId, JSON.stringify(s));
    assert.equal(s.username, ACCOUNT);
    assert.ok(CORE in (s.capabilities as object) && MAIL in (s.capabilities as object));
    const apiUrl = s.apiUrl as string;
    assert.equal(apiUrl, `${publicUrl}/jmap/api`);

    // RFC 8621 2: the Inbox.
    const [[mailboxGet, mailboxes]] = (await api(apiUrl, [['Mailbox/get', { accountId, ids: null }, 'm']])) as [[string, { list: Record<string, unknown>[]; state: string }, string]];
    assert.equal(mailboxGet, 'Mailbox/get');
    const inbox = mailboxes.list.find((m) => m.role === 'inbox');
    assert.ok(inbox, JSON.stringify(mailboxes));
    assert.equal(inbox.totalEmails, 1);
    assert.equal(inbox.unreadEmails, 1);

    // RFC 8621 4.4 + 4.2: query the Inbox newest first and get the result by reference.
    const responses = await api(apiUrl, [
      ['Email/query', { accountId, filter: { inMailbox: inbox.id }, sort: [{ property: 'receivedAt', isAscending: false }], calculateTotal: true }, 'q'],
      ['Email/get', {
        accountId, '#ids': { resultOf: 'q', name: 'Email/query', path: '/ids' },
        properties: ['id', 'subject', 'from', 'to', 'receivedAt', 'keywords', 'mailboxIds', 'textBody', 'bodyValues', 'preview', 'header:Received:asText'],
        fetchTextBodyValues: true,
      }, 'g'],
    ]);
    const [[queryName, queried], [getName, got]] = responses as [[string, { ids: string[]; total: number }, string], [string, { state: string; list: Record<string, unknown>[] }, string]];
    assert.equal(queryName, 'Email/query');
    assert.equal(queried.total, 1);
    assert.equal(queried.ids.length, 1);
    assert.equal(getName, 'Email/get');
    const email = got.list[0]!;
    const emailId = queried.ids[0]!;
    assert.equal(email.id, emailId);
    assert.equal(email.subject, subject);
    assert.deepEqual(email.from, [{ name: 'Some One', email: SENDER }]);
    assert.deepEqual(email.to, [{ name: null, email: ACCOUNT }]);
    assert.deepEqual(email.keywords, {});
    assert.deepEqual(email.mailboxIds, { [inbox.id as string]: true });
    const receivedAt = Date.parse(email.receivedAt as string);
    assert.ok(receivedAt >= started && receivedAt <= Date.now() + 1000, `receivedAt ${email.receivedAt}`);
    const textBody = email.textBody as { partId: string; type: string }[];
    assert.equal(textBody.length, 1);
    assert.equal(textBody[0]!.type, 'text/plain');
    const value = (email.bodyValues as Record<string, { value: string; isTruncated: boolean; isEncodingProblem: boolean }>)[textBody[0]!.partId]!;
    assert.equal(value.value, `Grüße aus dem Test,\ntoken ${token}.\n\nSecond paragraph.\n`);
    assert.equal(value.isTruncated, false);
    assert.equal(value.isEncodingProblem, false);
    assert.match(email.preview as string, new RegExp(`^Grüße aus dem Test, token ${token}\\.`));
    // The trace field Portico wrote names the SMTP client's real address.
    assert.match(email['header:Received:asText'] as string, /\[127\.0\.0\.8\]/);
    const stateBefore = got.state;

    // RFC 8621 4.6: mark it $seen; the state string changes, /changes says what changed.
    const [[setName, setResult]] = (await api(apiUrl, [['Email/set', { accountId, ifInState: stateBefore, update: { [emailId]: { 'keywords/$seen': true } } }, 's']])) as [[string, { oldState: string; newState: string; updated: Record<string, unknown> }, string]];
    assert.equal(setName, 'Email/set');
    assert.equal(setResult.oldState, stateBefore);
    assert.notEqual(setResult.newState, stateBefore);
    assert.deepEqual(Object.keys(setResult.updated), [emailId]);
    const seen = await api(apiUrl, [
      ['Email/changes', { accountId, sinceState: stateBefore }, 'c'],
      ['Email/get', { accountId, ids: [emailId], properties: ['keywords'] }, 'g'],
      ['Mailbox/get', { accountId, ids: [inbox.id], properties: ['totalEmails', 'unreadEmails'] }, 'm'],
    ]);
    const changes = seen[0]![1] as { oldState: string; newState: string; created: string[]; updated: string[]; destroyed: string[]; hasMoreChanges: boolean };
    assert.deepEqual(
      { oldState: changes.oldState, newState: changes.newState, created: changes.created, updated: changes.updated, destroyed: changes.destroyed, hasMoreChanges: changes.hasMoreChanges },
      { oldState: stateBefore, newState: setResult.newState, created: [], updated: [emailId], destroyed: [], hasMoreChanges: false },
    );
    assert.deepEqual((seen[1]![1] as { list: Record<string, unknown>[] }).list, [{ id: emailId, keywords: { $seen: true } }]);
    assert.deepEqual((seen[2]![1] as { list: Record<string, unknown>[] }).list, [{ id: inbox.id, totalEmails: 1, unreadEmails: 0 }]);

    // New mail over SMTP: the state moves again and /changes reports it created; the query puts it first.
    await deliver(`Second message ${token}`, ['Just a second one.']);
    const later = await api(apiUrl, [
      ['Email/changes', { accountId, sinceState: setResult.newState }, 'c'],
      ['Email/query', { accountId, filter: { inMailbox: inbox.id }, sort: [{ property: 'receivedAt', isAscending: false }] }, 'q'],
      ['Email/get', { accountId, '#ids': { resultOf: 'q', name: 'Email/query', path: '/ids' }, properties: ['subject', 'keywords'] }, 'g'],
    ]);
    const created = (later[0]![1] as { created: string[]; updated: string[] });
    assert.equal(created.created.length, 1, JSON.stringify(created));
    assert.deepEqual(created.updated, []);
    const secondId = created.created[0]!;
    assert.deepEqual((later[1]![1] as { ids: string[] }).ids, [secondId, emailId]);
    assert.deepEqual(
      (later[2]![1] as { list: Record<string, unknown>[] }).list,
      [{ id: secondId, subject: `Second message ${token}`, keywords: {} }, { id: emailId, subject, keywords: { $seen: true } }],
    );
  }));

  test('the same Basic credentials over plaintext are refused 403 encryptionRequired (direct, direct claiming https, through NGINX plain) and accepted through NGINX TLS', explained(async (t) => {
    explainServers(t);
    const plainDirect = (headers: Record<string, string> = {}) =>
      send(`http://127.0.0.1:${ports.web}/.well-known/jmap`, { localAddress: DIRECT_CLIENT, headers: { authorization: BASIC, ...headers } });
    const refused: { name: string; reply: HttpReply }[] = [
      { name: 'direct plain', reply: await plainDirect() },
      { name: 'direct plain claiming X-Forwarded-Proto https', reply: await plainDirect({ 'X-Forwarded-Proto': 'https', Forwarded: `for=${SPOOFED};proto=https` }) },
      { name: 'direct plain, wrong password', reply: await plainDirect({ authorization: `Basic ${Buffer.from(`${ACCOUNT}:wrong`).toString('base64')}` }) },
      {
        name: 'API POST direct plain',
        reply: await send(`http://127.0.0.1:${ports.web}/jmap/api`, {
          localAddress: DIRECT_CLIENT, method: 'POST', headers: { authorization: BASIC, 'content-type': 'application/json' },
          body: JSON.stringify({ using: [CORE], methodCalls: [['Core/echo', { hello: true }, '0']] }),
        }),
      },
      {
        name: 'through NGINX plain (trusted, X-Forwarded-Proto http), the client claiming https',
        reply: await send(`http://${PROXY}:${nginx.port}/.well-known/jmap`, { localAddress: NGINX_CLIENT, headers: { authorization: BASIC, 'X-Forwarded-Proto': 'https' } }),
      },
    ];
    for (const { name, reply } of refused) {
      assert.equal(reply.status, 403, `${name}: ${reply.status} ${reply.body}`);
      assert.equal(reply.headers['www-authenticate'], undefined, name);
      const p = problemOf(reply);
      assert.equal(p.type, 'urn:portico:error:encryptionRequired', name);
      assert.equal(p.status, 403, name);
      assert.equal(p.title, 'Encryption required', name);
      assert.match(String(p.detail), /plaintext HTTP/, name);
      assert.doesNotMatch(reply.body, /accountId|apiUrl|Core\/echo/, name);
    }

    // Positive control: the same request through NGINX's TLS server is served.
    const viaTls = await send(`https://${PROXY}:${nginx.tlsPort}/.well-known/jmap`, { localAddress: NGINX_CLIENT, ca: cert.cert, headers: { authorization: BASIC } });
    assert.equal(viaTls.status, 200, viaTls.body);
    assert.equal((JSON.parse(viaTls.body) as { username: string }).username, ACCOUNT);

    // The password was never checked over plaintext: no auth failure was reported for those requests.
    // (A wrong password over TLS is, and its log line comes after theirs.)
    const wrong = await send(`${publicUrl}/.well-known/jmap`, {
      localAddress: TLS_CLIENT, ca: cert.cert, connectTo: '127.0.0.1', headers: { authorization: `Basic ${Buffer.from(`${ACCOUNT}:wrong`).toString('base64')}` },
    });
    assert.equal(wrong.status, 401, wrong.body);
    assert.equal(wrong.headers['www-authenticate'], 'Basic realm="Portico JMAP", charset="UTF-8"');
    assert.equal(problemOf(wrong).type, 'urn:portico:error:unauthorized');
    await portico.waitForLog((l) => l.msg === 'security event' && l.event === 'auth-failure' && l.client === TLS_CLIENT);
    const plaintextFailures = portico.logs().filter((l) => l.msg === 'security event' && l.event === 'auth-failure' && (l.client === DIRECT_CLIENT || l.client === NGINX_CLIENT));
    assert.deepEqual(plaintextFailures, []);
  }));
});

describe('proxied route /webmail: the upstream learns the real client and TLS state, never what the client claimed', () => {
  async function throughRoute(t: TestContext, args: readonly string[]): Promise<{ url: string; headers: IncomingHttpHeaders }> {
    const requestsSoFar = upstream.seen.length;
    const result = await curl(t, args);
    assert.equal(result.status, 200, result.body);
    const echoed = JSON.parse(result.body) as { url: string; headers: IncomingHttpHeaders };
    // What the user saw is what the upstream got (one request each time).
    assert.equal(upstream.seen.length, requestsSoFar + 1);
    assert.deepEqual(upstream.seen.at(-1), echoed);
    return echoed;
  }

  function assertForwarded(headers: IncomingHttpHeaders, client: string, proto: 'http' | 'https'): void {
    assert.equal(headers['x-forwarded-for'], client);
    assert.equal(headers['x-forwarded-proto'], proto);
    for (const name of ['forwarded', 'x-real-ip', 'x-forwarded-host', 'x-forwarded-port']) {
      assert.equal(headers[name], undefined, `${name} must not reach the upstream: ${String(headers[name])}`);
    }
  }

  test('straight to the plain listener with spoofed forwarding headers: the upstream gets X-Forwarded-For 127.0.0.9 and X-Forwarded-Proto http, nothing else', explained(async (t) => {
    explainServers(t);
    const got = await throughRoute(t, ['--interface', DIRECT_CLIENT, ...lyingHeaders(), '-H', 'Cookie: session=abc', `http://127.0.0.1:${ports.web}/webmail/inbox?folder=1`]);
    assert.equal(got.url, '/inbox?folder=1', 'the prefix is removed');
    assertForwarded(got.headers, DIRECT_CLIENT, 'http');
    assert.equal(got.headers.cookie, 'session=abc');
  }));

  test('straight to the implicit-TLS listener: X-Forwarded-For 127.0.0.7, X-Forwarded-Proto https', explained(async (t) => {
    explainServers(t);
    const got = await throughRoute(t, [
      '--interface', TLS_CLIENT, '--cacert', cert.certFile, '--resolve', `${HOST}:${ports.webs}:127.0.0.1`,
      ...lyingHeaders(), `https://${HOST}:${ports.webs}/webmail/`,
    ]);
    assert.equal(got.url, '/');
    assertForwarded(got.headers, TLS_CLIENT, 'https');
  }));

  test('through NGINX (trusted): TLS server -> 127.0.0.6 and https, plain server -> 127.0.0.6 and http, the client\'s own X-Forwarded-For dropped', explained(async (t) => {
    explainServers(t);
    const overTls = await throughRoute(t, ['--interface', NGINX_CLIENT, '--cacert', cert.certFile, '-H', `X-Forwarded-For: ${SPOOFED}`, `https://${PROXY}:${nginx.tlsPort}/webmail/a`]);
    assert.equal(overTls.url, '/a');
    assertForwarded(overTls.headers, NGINX_CLIENT, 'https');
    const plain = await throughRoute(t, ['--interface', NGINX_CLIENT, '-H', `X-Forwarded-For: ${SPOOFED}`, '-H', 'X-Forwarded-Proto: https', `http://${PROXY}:${nginx.port}/webmail/b`]);
    assert.equal(plain.url, '/b');
    assertForwarded(plain.headers, NGINX_CLIENT, 'http');
  }));
});
