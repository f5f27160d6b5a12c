import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';

/**
 * A stream that yields `head` and then whatever arrives on `socket`. tls.TLSSocket reads from the
 * socket's native handle, so bytes we already read (a ClientHello that came in the same segment as
 * the PROXY header) would be lost to it; wrapping the socket in this stream hands them over.
 * Used only when such bytes exist: the common case passes the socket itself.
 */
export class ReplayStream extends Duplex {
  readonly #socket: Socket;

  constructor(socket: Socket, head: Buffer) {
    super({ allowHalfOpen: false });
    this.#socket = socket;
    this.push(head);
    socket.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('error', (error) => this.destroy(error));
    socket.on('close', () => this.destroy());
  }

  override _read(): void {
    this.#socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#socket.write(chunk, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#socket.end(callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#socket.destroy();
    callback(error);
  }
}
