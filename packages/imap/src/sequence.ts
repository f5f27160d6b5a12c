/**
 * Sequence sets (RFC 3501 9 sequence-set): "1", "2:4", "1:*", "3,5:7". `*` means the largest number
 * in use (the message count, or the highest UID); "4:2" is the same as "2:4".
 */
export interface SequenceRange {
  readonly from: number;
  readonly to: number;
}

const NUMBER = /^(?:\*|[1-9]\d{0,9})$/;

/** Undefined when the text is not a sequence set. `star` is the value `*` stands for. */
export function parseSequenceSet(text: string, star: number): SequenceRange[] | undefined {
  const ranges: SequenceRange[] = [];
  for (const part of text.split(',')) {
    const [a = '', b, extra] = part.split(':');
    if (extra !== undefined || !NUMBER.test(a) || (b !== undefined && !NUMBER.test(b))) return undefined;
    const x = a === '*' ? star : Number(a);
    const y = b === undefined ? x : b === '*' ? star : Number(b);
    if (x > 0xffffffff || y > 0xffffffff) return undefined;
    ranges.push({ from: Math.min(x, y), to: Math.max(x, y) });
  }
  return ranges;
}

export function inSequenceSet(ranges: readonly SequenceRange[], n: number): boolean {
  return ranges.some((r) => n >= r.from && n <= r.to);
}
