/**
 * `npm run screenshot`: regenerates docs/dashboard.png (the README's picture) the way the browser suite
 * takes its screenshots: the API started as `npm start` starts it, over the generated sample, in
 * Debian's Chromium (CHROMIUM_PATH), light mode.
 */
import path from 'node:path';
import { dashboardLoaded, launchChromium, watchedPage } from '../test/browser/chromium';
import { startDashboardServer } from '../test/browser/server';

const OUT = path.resolve(__dirname, '..', 'docs', 'dashboard.png');

async function main(): Promise<void> {
  const server = await startDashboardServer();
  const browser = await launchChromium();
  try {
    const context = await browser.newContext({
      viewport: { width: 1400, height: 900 },
      colorScheme: 'light',
    });
    const { page, errors, external } = await watchedPage(context, server.baseUrl, { token: server.token });
    await page.goto(`${server.baseUrl}/`);
    await dashboardLoaded(page);
    if (errors.length > 0 || external.length > 0) {
      throw new Error(`the page was not clean: ${JSON.stringify({ errors, external })}`);
    }
    await page.screenshot({ path: OUT, fullPage: true });
    console.log(`Wrote ${path.relative(process.cwd(), OUT)}`);
  } finally {
    await browser.close();
    await server.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
