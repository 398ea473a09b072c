import pLimit from 'p-limit';

/**
 * Taps `globalThis.fetch` (which ky calls for every Loki request) to record the pages of one fetch:
 * downloading them again, without parsing, gives the "just download the pages" lower bound.
 */
export interface RecordedPage {
  url: string;
  body: string;
}

const originalFetch = globalThis.fetch;

export async function recordingFetch<T>(
  run: () => Promise<T>,
): Promise<{ result: T; pages: RecordedPage[] }> {
  const pages: RecordedPage[] = [];
  globalThis.fetch = async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    const response = await originalFetch(input, init);
    const body = await response.text();
    if (response.ok) pages.push({ url, body });
    return new Response(body, { status: response.status, headers: response.headers });
  };
  try {
    return { result: await run(), pages };
  } finally {
    globalThis.fetch = originalFetch;
  }
}

/**
 * Downloads the recorded pages again, without parsing them: each range's pages one after the other
 * (a page's start comes from the previous page), ranges `concurrency` at a time, as the client does.
 */
export async function downloadOnly(pages: readonly RecordedPage[], concurrency: number): Promise<number> {
  const chains = new Map<string, string[]>();
  for (const { url } of pages) {
    const parsed = new URL(url);
    // Pages of one range share the query and end; only start (and limit) move.
    const key = `${parsed.searchParams.get('query')}\u0000${parsed.searchParams.get('end')}`;
    chains.set(key, [...(chains.get(key) ?? []), url]);
  }
  const limit = pLimit(concurrency);
  const startedAt = performance.now();
  await Promise.all(
    [...chains.values()].map(async (urls) => {
      for (const url of urls) await limit(async () => (await originalFetch(url)).text());
    }),
  );
  return performance.now() - startedAt;
}
