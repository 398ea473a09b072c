/**
 * The 504s a read gets when Loki cannot answer before the function's deadline. No imports: the dashboard
 * page (web/src/retry.ts) bundles this to tell that 504 from others, so both read the same words.
 */
export const LOKI_DEADLINE = 'Loki did not answer before the request deadline';

/** The 504's detail, saying what can be answered instead. */
export const DEADLINE_MESSAGE = `${LOKI_DEADLINE}; ask for a shorter window or fewer repositories`;

/**
 * The same when the store keeps closed days (`DayCache`): they are kept as their pages arrive, so the next
 * request served by this instance reads only the days still missing. Only "usually": another instance may
 * serve it, and days beyond the cache's size are dropped again.
 */
export const RESUMABLE_DEADLINE_MESSAGE =
  `${LOKI_DEADLINE}; asking again soon usually continues where this request stopped (this function ` +
  'instance keeps the past days it read for a while), or ask for a shorter window or fewer repositories';
