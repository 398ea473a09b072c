/**
 * Keeps secrets out of logs. Every log line goes through `redactingReplacer` (wired into the
 * Powertools logger in lib/logger.ts), which blanks credential-bearing keys and scrubs strings of:
 * configured secret values (registered when they are resolved), bearer/basic credentials, JWTs,
 * and `user:password@` in URLs (a Loki URL may carry them).
 */

export const REDACTED = '[REDACTED]';

const knownSecrets = new Set<string>();
let secretsPattern: RegExp | undefined;

// Shorter values would blank ordinary words in log lines; lib/secrets.ts ignores them too.
const MIN_SECRET_LENGTH = 4;

function escapeForRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Adds secret values whose every occurrence in a log line must be replaced. */
export function registerSecrets(values: Iterable<string | undefined>): void {
  let added = false;
  for (const value of values) {
    if (value === undefined || value.length < MIN_SECRET_LENGTH || knownSecrets.has(value)) continue;
    knownSecrets.add(value);
    added = true;
  }
  if (!added) return;
  // Longest first, so a secret that contains another is replaced whole.
  const alternatives = [...knownSecrets].sort((a, b) => b.length - a.length).map(escapeForRegExp);
  secretsPattern = new RegExp(alternatives.join('|'), 'g');
}

/** For tests that configure different secrets between cases. */
export function forgetSecretsForTests(): void {
  knownSecrets.clear();
  secretsPattern = undefined;
}

const CREDENTIAL_KEY =
  /^(authorization|proxy-authorization|cookie|set-cookie|x-api-key|password|passwd|.*token|.*secret)$/i;
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@:]+(?::[^\s/@]*)?@/gi;
const SCHEME_CREDENTIALS = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{12,}/gi;
const JWT = /\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;

/** The text with every secret, credential and JWT it contains replaced by `[REDACTED]`. */
export function redactText(text: string): string {
  let result = secretsPattern ? text.replace(secretsPattern, REDACTED) : text;
  result = result.replace(URL_CREDENTIALS, `$1${REDACTED}@`);
  result = result.replace(SCHEME_CREDENTIALS, `$1 ${REDACTED}`);
  return result.replace(JWT, REDACTED);
}

/** A JSON.stringify replacer: credential keys are blanked whatever their value, strings scrubbed. */
export function redactingReplacer(key: string, value: unknown): unknown {
  if (key !== '' && CREDENTIAL_KEY.test(key) && value !== undefined && value !== null) return REDACTED;
  if (typeof value === 'string') return redactText(value);
  return value;
}
