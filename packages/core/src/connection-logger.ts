import pino from 'pino';
import type { Logger } from 'pino';
import { tlsLogText } from './connection.ts';
import type { ConnectionInfo } from './connection.ts';

const { chindingsSym } = pino.symbols;

/** The text as it goes between a JSON string's quotes: as it is, unless something in it needs escaping. */
export function escapedForJson(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x22 || code === 0x5c || code > 0x7e) return JSON.stringify(text).slice(1, -1);
  }
  return text;
}

/**
 * The text, flattened by V8 into one piece. Built by concatenation it is a rope of some thirty pieces,
 * and every line written with it copied the rope piece by piece again (callgrind: about 1 K
 * instructions for a connection's two lines). Converting a string to a number makes V8 flatten it
 * first; the comparison keeps the conversion from being optimized away (bindings are never "7").
 */
function flattened(text: string): string {
  return Number(text) === 7 ? '' : text;
}

/**
 * The connection's logger: the same logger, writing the same lines, as
 * `parent.child(connectionLogFields(info))`, made for a fraction of the cost. pino's child() runs
 * every binding through its serializers, redaction and a JSON.stringify in a try/catch: about
 * 0.8 µs for these six fields, on every connection (and every request whose client a proxy named),
 * where this takes under 0.1 µs (see "Cost per connection" in the listener's README). It builds the
 * bindings' JSON itself and sets it the way child() does, through pino's exported symbols. So the
 * parent must have no custom bindings formatter, and no serializers or redaction for these six keys:
 * the server's logger has none. connection-logger.test.ts holds it to child()'s output byte for byte.
 */
export function connectionLogger(parent: Logger, info: ConnectionInfo): Logger {
  const logger = Object.create(parent) as Logger & Record<symbol, string>;
  const bindings =
    (parent as unknown as Record<symbol, string>)[chindingsSym] +
    `,"conn":"${escapedForJson(info.id)}","listener":"${escapedForJson(info.listener)}",` +
    `"client":"${escapedForJson(info.client.address)}:${info.client.port}","peer":"${escapedForJson(info.peer.address)}:${info.peer.port}",` +
    `"via":"${info.via}","tls":"${escapedForJson(tlsLogText(info.tls))}"`;
  logger[chindingsSym] = flattened(bindings);
  return logger;
}
