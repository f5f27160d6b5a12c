/**
 * Makes Node decide now whether its async context frames are on (in Node 24 they are, unless it runs
 * with `--no-async-context-frame`), before any connection's code is optimized.
 *
 * Node decides lazily, the first time something asks (an AsyncLocalStorage, or the first timer or
 * immediate it runs), and then swaps the prototype of the class that every `process.nextTick`,
 * every tick run and every timer consults. When the swap comes after those functions were optimized
 * (a listener's first timer can come after its first thousand connections), they are optimized
 * again with generic property loads, and stay so: about 30 more inline-cache misses and 4-7 K more
 * instructions per connection (see "Cost per connection" in the README). Asked before the first
 * connection, the swap costs nothing.
 */
export function settleAsyncContextFrames(): void {
  // The export's getter is what asks: it picks AsyncLocalStorage's implementation by whether frames are on.
  void process.getBuiltinModule('node:async_hooks').AsyncLocalStorage;
}
