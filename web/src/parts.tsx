import type { ComponentChildren } from 'preact';
import { ApiError } from './api';
import type { Retry } from './retry';

/**
 * What one part of the page has: still loading (`retry` when asking again after Loki ran out of time),
 * its data, or why it could not load.
 */
export type Part<T> =
  | { state: 'loading'; retry?: Retry }
  | { state: 'ok'; value: T }
  | { state: 'error'; error: ApiError };

export const LOADING = { state: 'loading' } as const;

export function asApiError(error: unknown, route: string): ApiError {
  return error instanceof ApiError ? error : new ApiError(0, (error as Error).message, route);
}

/** Why a part shows no data (yet): loading, waiting for a token, or the API's reason it failed. */
export function PartStatus(props: { part: Part<unknown>; what: string; id: string }) {
  const { part } = props;
  const store = part.state === 'loading' ? part.retry?.store : undefined;
  if (store !== undefined) {
    const minutes = Math.max(1, Math.round(store.etaSeconds / 60));
    return (
      <p class="loading" role="status" data-filling={props.id}>
        Preparing {props.what}: the days of this period are being stored for fast answers,{' '}
        {store.daysPresent.toLocaleString('en-GB')} of {store.daysNeeded.toLocaleString('en-GB')} days ready
        (about {minutes} min to go).{' '}
        <progress value={store.daysPresent} max={Math.max(1, store.daysNeeded)} />
      </p>
    );
  }
  if (part.state === 'loading' && part.retry !== undefined) {
    return (
      <p class="loading" role="status" data-retry={props.id}>
        Loki is slow: reading {props.what} continues where it stopped (attempt {part.retry.attempt} of{' '}
        {part.retry.attempts})…
      </p>
    );
  }
  if (part.state === 'loading') return <p class="loading">Loading {props.what}…</p>;
  if (part.state === 'ok') return null;
  if (part.error.status === 401) return <p class="loading">Waiting for a token (asked for above).</p>;
  return (
    <p class="part-error" role="alert" data-part-error={props.id}>
      Could not load {props.what}: {part.error.message}
    </p>
  );
}

/** A part's frame: its heading, then its content, or why it has none (PartStatus). */
export function Section(props: {
  id: string;
  title: string;
  /** Undefined when the children load on their own (the charts). */
  part: Part<unknown> | undefined;
  what: string;
  aside?: ComponentChildren;
  children?: ComponentChildren;
}) {
  const { part } = props;
  return (
    <section id={props.id} aria-labelledby={`${props.id}-title`} aria-busy={part?.state === 'loading'}>
      <div class="section-head">
        <h2 id={`${props.id}-title`}>{props.title}</h2>
        {props.aside}
      </div>
      {part === undefined || part.state === 'ok' ? (
        props.children
      ) : (
        <PartStatus part={part} what={props.what} id={props.id} />
      )}
    </section>
  );
}
