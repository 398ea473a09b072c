import { existsSync } from 'node:fs';
import { type Browser, type BrowserContext, chromium, type Page, type Request } from 'playwright-core';

/**
 * Debian's Chromium (`apt-get install chromium`; .ci/run installs it), never a browser downloaded by a
 * package. CHROMIUM_PATH points elsewhere when needed.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Chromium with a fresh profile (Playwright gives every launch its own temporary user data dir). */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`No Chromium at ${CHROMIUM_PATH}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: FLAGS });
}

export interface Watched {
  page: Page;
  /** Console errors and uncaught exceptions of the page. */
  errors: string[];
  /** Answers of 500 and above, with their URL (the console names only the status). */
  serverErrors: string[];
  /** Every console line (to check that no token is ever logged). */
  console: string[];
  /** Requests to anywhere but the API under test: refused, and listed here. */
  external: string[];
}

/**
 * A page that records console errors and refuses (and records) every request that is not to `origin`,
 * so a test can assert the page works with no external network request.
 */
export async function watchedPage(
  context: BrowserContext,
  origin: string,
  options: { token?: string } = {},
): Promise<Watched> {
  const page = await context.newPage();
  // Playwright's 30 s default is less than a first request's cold start through serverless offline on a
  // loaded 2-core machine (seen once in CI); waiting longer changes nothing when the page works.
  page.setDefaultTimeout(90_000);
  const watched: Watched = { page, errors: [], serverErrors: [], console: [], external: [] };
  page.on('response', (response) => {
    if (response.status() >= 500) watched.serverErrors.push(`${response.status()} ${response.url()}`);
  });
  page.on('console', (message) => {
    watched.console.push(message.text());
    if (message.type() === 'error') watched.errors.push(message.text());
  });
  page.on('pageerror', (error) => watched.errors.push(`uncaught: ${error.message}`));
  await page.route('**/*', (route, request: Request) => {
    const url = request.url();
    if (url.startsWith(`${origin}/`) || url.startsWith('data:')) return route.continue();
    watched.external.push(url);
    return route.abort('blockedbyclient');
  });
  if (options.token !== undefined) {
    // What the token prompt stores, in place before the page's script runs.
    await page.addInitScript((token) => sessionStorage.setItem('dora-api-token', token), options.token);
  }
  return watched;
}

/** Waits until every part of the dashboard is drawn (or says why it could not be). */
export async function dashboardLoaded(page: Page): Promise<void> {
  await page.locator('#glance .card, #glance .part-error').first().waitFor();
  await page.locator('#trends .chart canvas, #trends .part-error').first().waitFor();
  await page.locator('#deployments table.records, #deployments .part-error').first().waitFor();
  await page.locator('#gitops table, #gitops .part-error, #gitops .empty').first().waitFor();
  await page.waitForFunction(() => document.querySelectorAll('[aria-busy="true"]').length === 0);
}
