/** Concurrent connection counts for one listener, in total and per client address. */
export class ConnectionLimits {
  readonly #max: number;
  readonly #maxPerIp: number;
  readonly #perIp = new Map<string, number>();
  #total = 0;

  constructor(max: number, maxPerIp: number) {
    this.#max = max;
    this.#maxPerIp = maxPerIp;
  }

  get total(): number {
    return this.#total;
  }

  /** Counts a new socket; false when the listener is full. */
  openSocket(): boolean {
    if (this.#total >= this.#max) return false;
    this.#total++;
    return true;
  }

  closeSocket(): void {
    this.#total--;
  }

  /** Counts the client once it is known; false when that client already has its share. */
  openClient(address: string): boolean {
    const count = this.#perIp.get(address) ?? 0;
    if (count >= this.#maxPerIp) return false;
    this.#perIp.set(address, count + 1);
    return true;
  }

  closeClient(address: string): void {
    const count = this.#perIp.get(address) ?? 0;
    if (count <= 1) this.#perIp.delete(address);
    else this.#perIp.set(address, count - 1);
  }
}
