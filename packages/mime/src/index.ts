export { decodeCharset, decodeQuotedPrintable, decodeWords, findHeaderEnd, lastHeader, multipartRanges, parseHeaderBlock, parseStructured, unfold } from './mime.ts';
export type { HeaderEnd, RawHeader, StructuredValue } from './mime.ts';
export { parseAddressGroups } from './addresses.ts';
export type { AddressGroup, EmailAddress } from './addresses.ts';
