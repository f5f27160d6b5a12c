import { canonicalAddress, freezeConnectionInfo } from '@portico/core';
import type { ConnectionInfo, NetworkList, TlsState } from '@portico/core';

/**
 * Who the client of an HTTP request is, from `Forwarded` (RFC 7239) or `X-Forwarded-For`, when the
 * peer that sent the request is a trusted proxy.
 *
 * The rules (see packages/http/README.md and /work/shared/REFERENCES.md):
 * - Headers from a peer that is not trusted are ignored entirely (`via: 'direct'`, `ignored` says why).
 * - `Forwarded` is preferred when present, else `X-Forwarded-For`; several header lines are joined with
 *   commas. Only one of the two is ever used for addresses (never a mix, never a fall-back from one to
 *   the other: whatever the proxy did not write, the client may have).
 * - The list is walked right to left (nearest proxy first); trusted addresses are skipped; the first
 *   untrusted address is the client. When every hop is trusted, the leftmost one is the client.
 * - A hop that is `unknown`, an obfuscated identifier (`_hidden`), or an element without `for=` ends the
 *   walk: the client is the hop just right of it (necessarily trusted, since the walk only goes on past
 *   trusted hops), or the peer itself when it is the rightmost hop. The same for a malformed entry
 *   (`127.1`, `0x7f.0.0.1`, `010.0.0.1`, `1.2.3.4.5`, empty, bad port): nothing left of garbage is
 *   trusted, and `ignored` says so.
 * - Entries are normalised: brackets and ports stripped (`[2001:db8::1]:443`, `192.0.2.1:8080`),
 *   `::ffff:a.b.c.d` becomes `a.b.c.d`, IPv6 is lower-case and compressed.
 * - proto: from `Forwarded` the `proto=` of the element the client was taken from (that element was
 *   written by the trusted proxy the client connected to); from `X-Forwarded-Proto` the last value of a
 *   comma list (the nearest proxy's). Only "http" and "https". When `Forwarded` is present,
 *   `X-Forwarded-Proto` is not read.
 * - Work is capped: at most 32 hops from the right are considered; a header over 8 KiB is ignored.
 */
export interface ForwardedResolution {
  /** Canonical address of the client. */
  client: string;
  clientPort?: number;
  /** 'direct' when the headers were not used for the address. */
  via: 'direct' | 'x-forwarded-for' | 'forwarded';
  /** From X-Forwarded-Proto or Forwarded proto=, only from a trusted peer. */
  proto?: 'https' | 'http';
  /** Forwarded host= / X-Forwarded-Host (informational only: never build URLs from it). */
  host?: string;
  /** Why forwarded headers that were present were (partly) ignored: for a debug log line. */
  ignored?: string;
}

export type HeaderBag = Record<string, string | string[] | undefined>;

export interface ForwardedOptions {
  /**
   * Which header carries addresses. 'auto' (default): `Forwarded` when present, else `X-Forwarded-For`.
   * Pin it when the proxy writes only one of them and does not strip the other one from the client's
   * request: with 'auto', a client could otherwise send its own `Forwarded` through an XFF-only proxy.
   * The server always pins it, from the listener's `proxy.forwarded-header` (default x-forwarded-for).
   */
  header?: 'auto' | 'forwarded' | 'x-forwarded-for';
}

export const MAX_HOPS = 32;
export const MAX_HEADER_BYTES = 8 * 1024;
const MAX_HOST_LENGTH = 255;

type Node =
  | { kind: 'address'; address: string; port?: number }
  | { kind: 'unknown'; text: string }
  | { kind: 'malformed'; text: string; why: string };

interface Hop {
  node: Node;
  proto?: 'https' | 'http';
  host?: string;
}

const OBFUSCATED = /^_[A-Za-z0-9._-]+$/;
const PORT = /^(0|[1-9]\d{0,4})$/;

function parsePort(text: string): number | undefined | 'obfuscated' {
  if (OBFUSCATED.test(text)) return 'obfuscated';
  if (!PORT.test(text)) return undefined;
  const port = Number(text);
  return port <= 65535 ? port : undefined;
}

function malformed(text: string, why: string): Node {
  return { kind: 'malformed', text, why };
}

/** One node: `192.0.2.1`, `192.0.2.1:8080`, `[2001:db8::1]`, `[2001:db8::1]:443`, `2001:db8::1`, `unknown`, `_hidden`. */
export function parseNode(text: string): Node {
  if (text === '') return malformed(text, 'empty entry');
  if (text.toLowerCase() === 'unknown' || OBFUSCATED.test(text)) return { kind: 'unknown', text };
  let host: string;
  let portText: string | undefined;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close === -1) return malformed(text, 'unclosed bracket');
    host = text.slice(1, close);
    const after = text.slice(close + 1);
    if (after !== '') {
      if (!after.startsWith(':')) return malformed(text, 'text after the bracket');
      portText = after.slice(1);
    }
    if (!host.includes(':')) return malformed(text, 'brackets around a non-IPv6 address');
  } else {
    const colons = text.split(':').length - 1;
    if (colons === 1) {
      const colon = text.indexOf(':');
      host = text.slice(0, colon);
      portText = text.slice(colon + 1);
    } else {
      // 0 colons: IPv4; 2 or more: a bare IPv6 address (X-Forwarded-For's usual form), never with a port.
      host = text;
    }
  }
  const address = canonicalAddress(host);
  if (address === undefined) return malformed(text, 'not a canonical IP address');
  if (portText === undefined) return { kind: 'address', address };
  const port = parsePort(portText);
  if (port === undefined) return malformed(text, 'bad port');
  return port === 'obfuscated' ? { kind: 'address', address } : { kind: 'address', address, port };
}

function headerValue(headers: HeaderBag, name: string): string | undefined {
  let value = headers[name];
  if (value === undefined) {
    // Node lower-cases header names; hand-built bags may not.
    for (const key of Object.keys(headers)) {
      if (key.toLowerCase() === name) {
        value = headers[key];
        break;
      }
    }
  }
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(',') : value;
}

function lastListItem(value: string): string {
  const parts = value.split(',');
  return (parts[parts.length - 1] ?? '').trim();
}

function protoOf(value: string | undefined): 'https' | 'http' | undefined {
  if (value === undefined) return undefined;
  const lower = value.trim().toLowerCase();
  return lower === 'https' || lower === 'http' ? lower : undefined;
}

function hostOf(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === '' || trimmed.length > MAX_HOST_LENGTH || !/^[A-Za-z0-9.\-:[\]_]+$/.test(trimmed)) return undefined;
  return trimmed;
}

// ---------------------------------------------------------------------------------------------------
// RFC 7239 parsing

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

interface ForwardedElement {
  params?: Map<string, string>;
  error?: string;
}

/**
 * Splits a Forwarded value into elements. A broken element (unterminated quote, bad pair, duplicate
 * parameter) becomes one `{ error }` element and parsing resumes after the next comma (an unterminated
 * quote: the next comma after that quote), so that elements a proxy appended right of a client's
 * garbage are still read.
 */
export function parseForwardedHeader(value: string): ForwardedElement[] {
  const elements: ForwardedElement[] = [];
  let i = 0;
  for (;;) {
    const step = parseElement(value, i);
    elements.push(step.element);
    if (step.end) return elements;
    i = step.next;
  }
}

interface ElementStep {
  element: ForwardedElement;
  /** Index just after the comma that ended the element. */
  next: number;
  /** True when the element ran to the end of the value. */
  end: boolean;
}

/**
 * From `from`, the index after the next comma, or the end. Quotes are not honoured here on purpose:
 * after an error we cannot know whether a quote opens or closes, and a stray quote in a client's part
 * of the header must not swallow the elements the proxies appended after it.
 */
function skipPastComma(value: string, from: number): { next: number; end: boolean } {
  const comma = value.indexOf(',', from);
  return comma === -1 ? { next: value.length, end: true } : { next: comma + 1, end: false };
}

function parseElement(value: string, start: number): ElementStep {
  const n = value.length;
  const params = new Map<string, string>();
  let i = start;
  const skipOws = () => {
    while (i < n && (value[i] === ' ' || value[i] === '\t')) i++;
  };
  const fail = (error: string, resumeFrom = i): ElementStep => {
    const { next, end } = skipPastComma(value, resumeFrom);
    return { element: { error }, next, end };
  };
  for (;;) {
    skipOws();
    const nameStart = i;
    while (i < n && TCHAR.test(value[i]!)) i++;
    const name = value.slice(nameStart, i).toLowerCase();
    if (name === '') {
      // "for=a;" before a comma or the end is tolerated; an element with no pair at all is not.
      if ((i >= n || value[i] === ',') && params.size > 0) break;
      return fail(i >= n || value[i] === ',' ? 'empty element' : 'bad parameter name');
    }
    if (value[i] !== '=') return fail(`parameter ${name} without a value`);
    i++;
    let paramValue: string;
    if (value[i] === '"') {
      const quote = i;
      i++;
      let out = '';
      let closed = false;
      while (i < n) {
        const c = value[i]!;
        if (c === '\\' && i + 1 < n) {
          out += value[i + 1];
          i += 2;
        } else if (c === '"') {
          closed = true;
          i++;
          break;
        } else {
          out += c;
          i++;
        }
      }
      if (!closed) return fail('unterminated quoted string', quote + 1);
      paramValue = out;
    } else {
      // Lenient: an unquoted value runs to the next separator, so a proxy configured as
      // `for=$remote_addr` (bare IPv6 or [v6]:port, which RFC 7239 wants quoted) still works.
      const valueStart = i;
      while (i < n && !';, \t"'.includes(value[i]!)) i++;
      paramValue = value.slice(valueStart, i);
    }
    if (params.has(name)) return fail(`duplicate parameter ${name}`);
    params.set(name, paramValue);
    skipOws();
    if (value[i] === ';') {
      i++;
      continue;
    }
    if (i >= n || value[i] === ',') break;
    return fail('unexpected character');
  }
  return i >= n ? { element: { params }, next: n, end: true } : { element: { params }, next: i + 1, end: false };
}

// ---------------------------------------------------------------------------------------------------

function forwardedHops(value: string): Hop[] {
  return parseForwardedHeader(value).map((element): Hop => {
    if (element.error !== undefined || !element.params) {
      return { node: malformed('', element.error ?? 'malformed element') };
    }
    const params = element.params;
    const forValue = params.get('for');
    const proto = protoOf(params.get('proto'));
    const host = hostOf(params.get('host'));
    const extra = { ...(proto ? { proto } : {}), ...(host ? { host } : {}) };
    if (forValue === undefined) return { node: { kind: 'unknown', text: '(no for=)' }, ...extra };
    return { node: parseNode(forValue), ...extra };
  });
}

function xffHops(value: string): Hop[] {
  return value.split(',').map((entry) => ({ node: parseNode(entry.trim()) }));
}

function describe(node: Node): string {
  return node.kind === 'address' ? node.address : JSON.stringify(node.text);
}

/**
 * Resolves the client of one HTTP request. `peer` is the canonical address that sent the request to
 * us: the socket peer, or the PROXY source when the listener reads PROXY headers.
 */
export function resolveForwardedClient(
  peer: string,
  trusted: NetworkList,
  headers: HeaderBag,
  options: ForwardedOptions = {},
): ForwardedResolution {
  const forwarded = headerValue(headers, 'forwarded');
  const xff = headerValue(headers, 'x-forwarded-for');
  const xfProto = headerValue(headers, 'x-forwarded-proto');
  const xfHost = headerValue(headers, 'x-forwarded-host');
  const direct: ForwardedResolution = { client: peer, via: 'direct' };

  if (!trusted.has(peer)) {
    if (forwarded === undefined && xff === undefined && xfProto === undefined && xfHost === undefined) return direct;
    return { ...direct, ignored: `peer ${peer} is not a trusted proxy` };
  }

  const notes: string[] = [];
  const mode = options.header ?? 'auto';
  let source: 'forwarded' | 'x-forwarded-for' | undefined;
  if (mode === 'forwarded' || (mode === 'auto' && forwarded !== undefined)) source = forwarded === undefined ? undefined : 'forwarded';
  else if (xff !== undefined) source = 'x-forwarded-for';
  if (mode === 'forwarded' && xff !== undefined) notes.push('X-Forwarded-For ignored: only Forwarded is read on this listener');
  if (mode === 'x-forwarded-for' && forwarded !== undefined) notes.push('Forwarded ignored: only X-Forwarded-For is read on this listener');
  if (mode === 'auto' && forwarded !== undefined && xff !== undefined) notes.push('X-Forwarded-For ignored: Forwarded is preferred');

  const result: ForwardedResolution = { ...direct };
  // X-Forwarded-Proto/-Host go with X-Forwarded-For (or with nothing): never mixed with Forwarded.
  if (source !== 'forwarded' && mode !== 'forwarded') {
    if (xfProto !== undefined) {
      if (xfProto.length > MAX_HEADER_BYTES) notes.push(`X-Forwarded-Proto over ${MAX_HEADER_BYTES} bytes ignored`);
      else {
        const proto = protoOf(lastListItem(xfProto));
        if (proto) result.proto = proto;
        else notes.push(`X-Forwarded-Proto ${JSON.stringify(lastListItem(xfProto).slice(0, 40))} ignored`);
      }
    }
    if (xfHost !== undefined && xfHost.length <= MAX_HEADER_BYTES) {
      const host = hostOf(lastListItem(xfHost));
      if (host) result.host = host;
    }
  }

  const finish = (): ForwardedResolution => {
    if (notes.length > 0) result.ignored = notes.join('; ');
    return result;
  };
  if (source === undefined) return finish();

  const name = source === 'forwarded' ? 'Forwarded' : 'X-Forwarded-For';
  const raw = source === 'forwarded' ? forwarded! : xff!;
  if (raw.length > MAX_HEADER_BYTES) {
    notes.push(`${name} over ${MAX_HEADER_BYTES} bytes ignored`);
    return finish();
  }
  let hops = source === 'forwarded' ? forwardedHops(raw) : xffHops(raw);
  if (hops.length > MAX_HOPS) {
    notes.push(`${name} has ${hops.length} hops; only the rightmost ${MAX_HOPS} were considered`);
    hops = hops.slice(hops.length - MAX_HOPS);
  }

  /** The hop the client is taken from; undefined = the peer. */
  let chosen: Hop | undefined;
  /** Hop that ended the walk without naming the client (unknown / malformed), for proto on the peer. */
  let stopper: Hop | undefined;
  for (let index = hops.length - 1; index >= 0; index--) {
    const hop = hops[index]!;
    const node = hop.node;
    const position = hops.length - index;
    if (node.kind === 'malformed') {
      const what = node.text === '' && source === 'forwarded' ? `element (${node.why})` : `entry ${JSON.stringify(node.text.slice(0, 64))} (${node.why})`;
      notes.push(
        `malformed ${name} ${what} at hop ${position} from the right; ` +
          `using ${chosen && chosen.node.kind === 'address' ? chosen.node.address : `the peer ${peer}`} and nothing left of it`,
      );
      break;
    }
    if (node.kind === 'unknown') {
      if (!chosen) stopper = hop;
      notes.push(
        `${name} hop ${position} from the right is ${JSON.stringify(node.text.slice(0, 64))}; ` +
          `using ${chosen && chosen.node.kind === 'address' ? chosen.node.address : `the peer ${peer}`}`,
      );
      break;
    }
    chosen = hop;
    if (!trusted.has(node.address)) {
      break;
    }
  }
  // Every exit (untrusted client found, a stop, or all trusted = the leftmost) leaves the client in `chosen`.

  if (chosen && chosen.node.kind === 'address') {
    result.client = chosen.node.address;
    if (chosen.node.port !== undefined) result.clientPort = chosen.node.port;
    result.via = source;
  }
  if (source === 'forwarded') {
    const protoHop = chosen ?? stopper;
    if (protoHop?.proto) result.proto = protoHop.proto;
    if (protoHop?.host) result.host = protoHop.host;
  }
  return finish();
}

/**
 * Applies a resolution to the connection the request arrived on: a new frozen ConnectionInfo whose
 * client is the forwarded client (port 0 when the proxy did not say), `via` x-forwarded-for/forwarded,
 * and TLS as the proxy reported it: proto https -> the connection's own TLS state if it has one, else
 * `{ terminatedBy: 'proxy' }`; proto http -> no TLS (the client's leg was plaintext, whatever ours is);
 * no proto -> unchanged. Answers `info` itself when there is nothing to change.
 */
export function applyForwardedResolution(info: ConnectionInfo, resolution: ForwardedResolution): ConnectionInfo {
  let tls: TlsState | null = info.tls;
  if (resolution.proto === 'https') tls = info.tls ?? { terminatedBy: 'proxy' };
  else if (resolution.proto === 'http') tls = null;
  const viaHeader = resolution.via !== 'direct';
  if (!viaHeader && tls === info.tls) return info;
  return freezeConnectionInfo({
    ...info,
    client: viaHeader ? { address: resolution.client, port: resolution.clientPort ?? 0 } : { ...info.client },
    server: { ...info.server },
    peer: { ...info.peer },
    via: viaHeader ? resolution.via : info.via,
    tls: tls === null ? null : { ...tls },
    ...(info.proxy ? { proxy: { ...info.proxy } } : {}),
    peerIsTrustedProxy: info.peerIsTrustedProxy || viaHeader,
  });
}

/**
 * The function the server hands the http package as `resolveClient`: the peer the request came from is
 * the connection's client (the socket peer, or the PROXY source).
 */
export function forwardedResolver(
  trusted: NetworkList,
  options: ForwardedOptions = {},
): (info: ConnectionInfo, headers: HeaderBag) => { info: ConnectionInfo; ignored?: string } {
  return (info, headers) => {
    const resolution = resolveForwardedClient(info.client.address, trusted, headers, options);
    const next = applyForwardedResolution(info, resolution);
    return resolution.ignored === undefined ? { info: next } : { info: next, ignored: resolution.ignored };
  };
}
