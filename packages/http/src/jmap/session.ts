import { CORE, LIMITS, MAIL } from './context.ts';
import { accountIdOf, stateOf } from './ids.ts';

/** The JMAP Session resource (RFC 8620 section 2). Every URL comes from publicUrl, never from the request. */

export const API_PATH = '/jmap/api';
export const SESSION_PATH = '/jmap/session';
export const DOWNLOAD_PREFIX = '/jmap/download';
export const UPLOAD_PREFIX = '/jmap/upload';
export const EVENTSOURCE_PATH = '/jmap/eventsource';

export interface SessionUrls {
  apiUrl: string;
  downloadUrl: string;
  uploadUrl: string;
  eventSourceUrl: string;
}

export function sessionUrls(publicUrl: string): SessionUrls {
  const base = publicUrl.replace(/\/+$/, '');
  return {
    apiUrl: `${base}${API_PATH}`,
    downloadUrl: `${base}${DOWNLOAD_PREFIX}/{accountId}/{blobId}/{name}?accept={type}`,
    uploadUrl: `${base}${UPLOAD_PREFIX}/{accountId}/`,
    eventSourceUrl: `${base}${EVENTSOURCE_PATH}?types={types}&closeafter={closeafter}&ping={ping}`,
  };
}

export const MAIL_ACCOUNT_CAPABILITY = {
  maxMailboxesPerEmail: 1,
  maxMailboxDepth: 1,
  maxSizeMailboxName: 255,
  maxSizeAttachmentsPerEmail: 0,
  emailQuerySortOptions: ['receivedAt', 'size'],
  mayCreateTopLevelMailbox: false,
};

export function sessionResource(publicUrl: string, address: string): Record<string, unknown> {
  const accountId = accountIdOf(address);
  const body = {
    capabilities: { [CORE]: LIMITS, [MAIL]: {} },
    accounts: {
      [accountId]: { name: address, isPersonal: true, isReadOnly: false, accountCapabilities: { [MAIL]: MAIL_ACCOUNT_CAPABILITY } },
    },
    primaryAccounts: { [MAIL]: accountId },
    username: address,
    ...sessionUrls(publicUrl),
  };
  return { ...body, state: stateOf(JSON.stringify(body)) };
}
