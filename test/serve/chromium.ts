// Debian's chromium driven by playwright-core (no downloaded browser): a fresh profile per launch.

import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { startServer } from '../../src/serve/server.ts';

export const CHROMIUM = process.env.LAKESTREAM_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = join(import.meta.dirname, '../../test-output/screenshots');

export async function launchChromium(): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  const profile = await mkdtemp(join(tmpdir(), 'lakestream-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1360, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/**
 * The dashboard's server on a free port over a lake and transport, and a chromium page to open it in:
 * errors the page's scripts throw are collected, and close() stops both.
 */
export async function dashboardInChromium(lake: string, transport: string) {
  const server = await startServer({ port: 0, lake, transport, liveIntervalMs: 500, log: () => {} });
  const browser = await launchChromium();
  const page: Page = await browser.context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await mkdir(SCREENSHOTS, { recursive: true });
  return {
    server,
    page,
    pageErrors,
    close: async () => {
      await browser.close();
      await server.close();
    },
  };
}
