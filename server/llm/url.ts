import { BackendError } from './errors';

/**
 * Validates a backend base URL: http(s) only, and no user:password@ — credentials belong in
 * configuration (API keys), not in URLs that end up in logs and admin screens.
 * Returns the URL without a trailing slash.
 */
export function parseBackendUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new BackendError('bad_request', `Backend URL "${url}" is not a valid URL (expected e.g. http://127.0.0.1:11434).`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new BackendError('bad_request', `Backend URL "${url}" must use http or https, not ${parsed.protocol.replace(':', '')}.`);
  }
  if (parsed.username || parsed.password) {
    parsed.username = '';
    parsed.password = '';
    throw new BackendError('bad_request', `Backend URL ${parsed.href} must not embed credentials; configure an API key instead.`);
  }
  return parsed.href.replace(/\/+$/, '');
}
