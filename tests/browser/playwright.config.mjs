// @playwright/test against a running daemon (tests/e2e/test_dashboard.py
// starts one and sets HIVEBOX_URL, HIVEBOX_KEY, HB_FAKE_LLM, HIVEBOX_SCREENS).
// Debian's chromium, not Playwright's download (unreachable here and in CI).
import { fileURLToPath } from 'node:url';
import { defineConfig } from '@playwright/test';

const repo = fileURLToPath(new URL('../..', import.meta.url));

export default defineConfig({
  testDir: '.',
  testMatch: '*.spec.mjs',
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 30_000,
  expect: { timeout: 5_000 },
  reporter: 'list',
  forbidOnly: !!process.env.CI,
  // Per checkout (Playwright empties it at each run).
  outputDir: process.env.HIVEBOX_PW_OUT || `${repo}build/playwright-out`,
  use: {
    baseURL: process.env.HIVEBOX_URL || 'http://127.0.0.1:7070',
    headless: true,
    trace: 'off',
    screenshot: 'off',
    video: 'off',
    actionTimeout: 5_000,
    navigationTimeout: 10_000,
    viewport: { width: 1280, height: 800 },
    launchOptions: {
      executablePath: process.env.HIVEBOX_CHROMIUM || '/usr/bin/chromium',
      // Root in CI: chromium's sandbox needs user namespaces it may not get.
      args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
    },
  },
});
