/**
 * Headless Chromium (Debian's) for the page tests, wired so that any request a page sends to a
 * host other than 127.0.0.1 is seen: the browser's proxy is a recorder on 127.0.0.1, loopback
 * bypasses it, so everything else lands there (and fails). Tests assert it recorded nothing.
 */
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env['KOI_CHROMIUM'] ?? '/usr/bin/chromium';

/** Fails (never skips) with what to install; scripts/ensure-chromium.sh installs it for npm test. */
export function requireChromium(): void {
  try {
    accessSync(CHROMIUM, constants.X_OK);
  } catch {
    throw new Error(
      `no Chromium at ${CHROMIUM}: the page tests need it. Run 'apt-get install -y chromium' as root (or bash scripts/ensure-chromium.sh), or set KOI_CHROMIUM.`,
    );
  }
}

export interface Recorder {
  port: number;
  /** Every request the proxy received: `METHOD url` (CONNECT host:port for https). */
  seen: string[];
  /** Requests sent to the recorder as a server, not as a proxy: the browser's redirected service calls. */
  direct: string[];
  close(): Promise<void>;
}

/** An HTTP proxy that answers nothing useful and writes down what it was asked for. */
export async function startRecorder(): Promise<Recorder> {
  const seen: string[] = [];
  const direct: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    // A proxied request names its target in absolute form; a direct one has only a path.
    (req.url?.startsWith('/') ? direct : seen).push(`${req.method ?? '?'} ${req.url ?? '?'}`);
    res.writeHead(502, { 'content-type': 'text/plain', connection: 'close' }).end('blocked by the test recorder');
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('connect', (req, socket) => {
    seen.push(`CONNECT ${req.url ?? '?'}`);
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    direct,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface Browser {
  context: BrowserContext;
  recorder: Recorder;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<Browser> {
  requireChromium();
  const recorder = await startRecorder();
  const profile = await mkdtemp(join(tmpdir(), 'koi-pages-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        `--proxy-server=http://127.0.0.1:${recorder.port}`,
        // Chromium's own sign-in and push-messaging check-ins (not the page's) would go to Google
        // at startup; point them at the recorder, which files them apart from proxied requests.
        `--gaia-url=http://127.0.0.1:${recorder.port}`,
        `--gcm-checkin-url=http://127.0.0.1:${recorder.port}/checkin`,
      ],
      viewport: { width: 1280, height: 900 },
      timeout: 60_000,
    });
    return {
      context,
      recorder,
      close: async () => {
        await context.close();
        await recorder.close();
        await rm(profile, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await recorder.close();
    await rm(profile, { recursive: true, force: true });
    throw err;
  }
}

export interface WatchedPage {
  page: Page;
  /** Every URL the page requested, in order. */
  requests: string[];
  /** Console errors and page errors (a CSP violation shows up here). */
  errors: string[];
  /** Main-frame navigations (1 = the page was never reloaded). */
  navigations: () => number;
}

export async function openPage(browser: Browser, url: string): Promise<WatchedPage> {
  const page = await browser.context.newPage();
  const requests: string[] = [];
  const errors: string[] = [];
  let navigations = 0;
  page.on('request', (r) => void requests.push(r.url()));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => void errors.push(String(e)));
  page.on('framenavigated', (f) => {
    if (f === page.mainFrame()) navigations++;
  });
  await page.goto(url, { waitUntil: 'load', timeout: 60_000 });
  return { page, requests, errors, navigations: () => navigations };
}

/** Screenshots for a person to look at during development: KOI_PAGES_SCREENSHOTS=<dir>. */
export async function maybeScreenshot(page: Page, name: string): Promise<void> {
  const dir = process.env['KOI_PAGES_SCREENSHOTS'];
  if (dir) await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}
