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
 * The text, flattened by V8 into one piece. Built by concatenation it is a rope of some twenty
 * pieces, and every line written with it copied the rope piece by piece again (callgrind: about 1 K
 * instructions for a connection's two lines). Searching a string makes V8 flatten it first; the
 * comparison keeps the search from being optimized away (indexOf never answers -2). Of the ways
 * tried (Number(text), trim(), a RegExp test, indexOf), indexOf cost the least.
 */
function flattened(text: string): string {
  return text.indexOf('\u0000') === -2 ? '' : text;
}

/** The connection a logger made by connectionLogger describes, and its bindings once they are built. */
const connectionSym = Symbol('portico.connection');
const builtBindingsSym = Symbol('portico.connectionBindings');

/** A pino logger seen as what it is underneath: its state kept under pino's symbols. */
export type Internals = Record<symbol, unknown>;

/**
 * The pieces of the bindings that a listener's connections share, for the parent bindings and
 * listener last seen: fewer pieces to join and escape for each connection (about 0.7 K instructions).
 */
let shared = { parentBindings: '', listener: '', beforeId: '', afterId: '' };
/** The end of the bindings of a connection without TLS, for the `via` last seen. */
let plainTail = { via: '', text: '' };

function bindingsText(parentBindings: string, info: ConnectionInfo): string {
  if (parentBindings !== shared.parentBindings || info.listener !== shared.listener) {
    shared = {
      parentBindings,
      listener: info.listener,
      beforeId: `${parentBindings},"conn":"`,
      afterId: `","listener":"${escapedForJson(info.listener)}","client":"`,
    };
  }
  let tail: string;
  if (info.tls !== null) tail = `${info.via}","tls":"${escapedForJson(tlsLogText(info.tls))}"`;
  else if (info.via === plainTail.via) tail = plainTail.text;
  else tail = (plainTail = { via: info.via, text: `${info.via}","tls":"none"` }).text;
  return flattened(
    shared.beforeId + escapedForJson(info.id) + shared.afterId +
      `${escapedForJson(info.client.address)}:${info.client.port}","peer":"${escapedForJson(info.peer.address)}:${info.peer.port}","via":"` +
      tail,
  );
}

/**
 * What every connection logger of `parent` inherits from: `parent`, with pino's bindings text as an
 * accessor that builds the connection's bindings when a line first needs them. Most connections at
 * log level warn never write a line, and building the text (some twenty pieces, then flattened) was
 * about 4 K instructions a connection (callgrind, the listener benchmark's server). pino writes the
 * bindings of a child, and setBindings() replaces them: the setter makes them the logger's own.
 */
function connectionPrototype(parent: Logger): Logger {
  const prototype = Object.create(parent) as Logger;
  Object.defineProperty(prototype, chindingsSym, {
    get(this: Internals): string {
      let text = this[builtBindingsSym] as string | undefined;
      if (text === undefined) {
        text = bindingsText((parent as unknown as Internals)[chindingsSym] as string, this[connectionSym] as ConnectionInfo);
        this[builtBindingsSym] = text;
      }
      return text;
    },
    set(this: object, text: string) {
      Object.defineProperty(this, chindingsSym, { value: text, writable: true, enumerable: true, configurable: true });
    },
  });
  return prototype;
}

/** The prototype of the parent last asked for, then the others': each listener has its own parent. */
let lastParent: Logger | undefined;
let lastPrototype: Logger | undefined;
const prototypes = new WeakMap<Logger, Logger>();

function prototypeFor(parent: Logger): Logger {
  if (parent === lastParent) return lastPrototype!;
  let prototype = prototypes.get(parent);
  if (prototype === undefined) {
    prototype = connectionPrototype(parent);
    prototypes.set(parent, prototype);
  }
  lastParent = parent;
  lastPrototype = prototype;
  return prototype;
}

/**
 * The connection's logger: the same logger, writing the same lines, as
 * `parent.child(connectionLogFields(info))`, made for a fraction of the cost. pino's child() runs
 * every binding through its serializers, redaction and a JSON.stringify in a try/catch: about
 * 0.8 µs for these six fields, on every connection (and every request whose client a proxy named).
 * This builds the bindings' JSON itself, when the first line is written (see connectionPrototype),
 * from the parent's bindings as they are then; pino's child() reads them at once, which differs
 * only for a parent whose setBindings() is called in between (no connection parent's is). So the
 * parent must have no custom bindings formatter, and no serializers or redaction for these six keys:
 * the server's logger has none. connection-logger.test.ts holds it to child()'s output byte for byte.
 */
export function connectionLogger(parent: Logger, info: ConnectionInfo): Logger {
  const logger = Object.create(prototypeFor(parent)) as Logger & Internals;
  logger[connectionSym] = info;
  return logger;
}
