// What the browser tests share (dashboard.mjs, demo.mjs): the environment
// they need, the ok:/FAIL: count, the hub's API as a bearer, and headless
// Debian Chromium driven by playwright-core on the hub's dashboard (sign
// in, switch views, read tables and cards, screenshots).
//
// One test per process: the counts live in this module, and finish() ends
// the process with "N passed, N failed" and exit status 1 on any failure.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

// The values of the named environment variables; exits 2 naming them all
// when one is unset or empty.
export function requireEnv(...names) {
  const values = names.map((n) => process.env[n]);
  if (values.some((v) => !v)) {
    console.error(`${names.slice(0, -1).join(', ')} and ${names[names.length - 1]} must be set`);
    process.exit(2);
  }
  return values;
}

// ISO 8601 UTC without milliseconds, as the hub writes times.
export const iso = (t) => new Date(t * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

let passed = 0, failed = 0;

// One check: prints "ok: msg" or "FAIL: msg detail" and counts it.
export function check(cond, msg, detail) {
  if (cond) {
    passed++;
    console.log('ok:', msg);
  } else {
    failed++;
    console.log('FAIL:', msg, detail === undefined ? '' : JSON.stringify(detail).slice(0, 2000));
  }
}

// The hub's API v1 at url: api(method, path, token[, body]) returns the
// parsed JSON reply and throws on any status other than 2xx.
export function hubApi(url) {
  return async (method, path, tok, body) => {
    const r = await fetch(url + path, { method, headers: { Authorization: 'Bearer ' + tok }, body });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return JSON.parse(text);
  };
}

// Headless Debian Chromium with a new profile in profileDir, one page on
// the dashboard at hubUrl, screenshots into artDir (made if missing).
// readyTimeout is how long a sign-in may take to show the data (ms).
// Console errors and page errors are collected in consoleErrors.
export async function openDashboard({ hubUrl, artDir, profileDir, readyTimeout = 30000 }) {
  mkdirSync(artDir, { recursive: true });
  const ctx = await chromium.launchPersistentContext(profileDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1366, height: 768 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = ctx.pages()[0] || (await ctx.newPage());
  const consoleErrors = [];
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  page.on('pageerror', (e) => consoleErrors.push(String(e)));

  return {
    ctx,
    page,
    consoleErrors,
    // Signs in with a token and waits until the dashboard has its data.
    async signIn(tok) {
      await page.goto(hubUrl + '/');
      await page.fill('#t', tok);
      await page.click('button[type=submit]');
      await page.waitForSelector('body[data-ready="true"]', { timeout: readyTimeout });
    },
    // Switches to one of the views named in the navigation.
    async view(name) {
      await page.click(`nav a[data-view="${name}"]`);
      await page.waitForSelector(`#view-${name}:not([hidden])`);
    },
    // Rows of a table as {column key: text}, skipping the "nothing here" row.
    rows: (id) =>
      page.$$eval(`#${id} tbody tr`, (trs) =>
        trs.filter((tr) => tr.querySelector('td[data-col]'))
          .map((tr) => Object.fromEntries([...tr.querySelectorAll('td[data-col]')].map((td) => {
            const c = td.cloneNode(true); // the text shown, without a select's options
            c.querySelectorAll('select').forEach((x) => x.remove());
            return [td.dataset.col, c.textContent];
          })))),
    // The number a card shows, as text.
    cardValue: (key) => page.textContent(`[data-card="${key}"] .value`),
    // A screenshot into artDir: the whole page, or only the viewport.
    shot: (file, fullPage = true) => page.screenshot({ path: join(artDir, file), fullPage }),
  };
}

// Runs body (the browser part of a test), turns an exception into a
// failed check with a screenshot named failureShot, closes the browser,
// prints the counts and ends the process.
export async function finish(browser, failureShot, body) {
  try {
    await body();
  } catch (e) {
    check(false, 'the browser test ran to its end', String(e && e.stack ? e.stack : e));
    await browser.shot(failureShot).catch(() => {});
  } finally {
    await browser.ctx.close();
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}
