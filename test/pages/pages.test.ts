/**
 * The pages as a person sees them: real nodes, real headless Chromium. The browser's proxy is a
 * recorder, so a page that reached for any host but the node (a CDN, fonts, an online validator)
 * is caught, and every request the page made is checked against the node's origin.
 */
import { expect } from 'chai';
import { API_PATHS } from '../../src/protocol/index.ts';
import { launchBrowser, maybeScreenshot, openPage, type Browser, type WatchedPage } from './browser.ts';
import { TestNetwork, waitFor } from './nodes.ts';

function expectOnlyNode(watched: WatchedPage, browser: Browser, origin: string): void {
  expect(browser.recorder.seen, 'requests that left for another host').to.deep.equal([]);
  const foreign = watched.requests.filter((u) => !u.startsWith('data:') && new URL(u).origin !== origin);
  expect(foreign, 'requests to a host other than the node').to.deep.equal([]);
  expect(watched.requests.length).to.be.greaterThan(0);
}

describe('pages in a browser', function () {
  this.timeout(120_000);
  const net = new TestNetwork();
  let browser: Browser;

  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    await net.stopAll();
  });

  it('the docs page lists the five operations with their schemas, loading nothing from elsewhere', async () => {
    const a = await net.start('docs-node');
    const watched = await openPage(browser, `${a.url}/docs`);
    const { page } = watched;
    await page.waitForSelector('.opblock-summary-path', { timeout: 30_000 });
    const paths = await page.$$eval('.opblock-summary-path', (els) => els.map((e) => e.getAttribute('data-path') ?? e.textContent ?? ''));
    expect([...paths].sort()).to.deep.equal(Object.values(API_PATHS).sort());
    // Schemas are listed, and an operation opens to an example request body.
    await page.waitForSelector('.models', { timeout: 10_000 });
    expect(await page.textContent('.models')).to.include('EventsPayload');
    await page.click('.opblock-summary-path[data-path="/rids/fetch"]');
    await page.waitForSelector('.opblock-body .body-param__example, .opblock-body .microlight, .opblock-body pre', { timeout: 10_000 });
    const opened = await page.textContent('.opblock.is-open');
    expect(opened).to.include('rid_types');
    // The contract's own examples, not strings generated from the RID pattern.
    expect(opened).to.include('"orn:koi-net.node"');
    await maybeScreenshot(page, 'docs');
    expectOnlyNode(watched, browser, a.origin);
    expect(watched.errors, 'console errors (CSP violations among them)').to.deep.equal([]);
  });

  it('the status page shows the RID and the graph, and redraws as a neighbour joins, without reloading', async () => {
    const coord = await net.start('coordinator', { coordinator: true });
    // Through GET /, which redirects to the status page.
    const watched = await openPage(browser, `${coord.origin}/`);
    const { page } = watched;
    expect(new URL(page.url()).pathname).to.equal('/koi-net/status');
    expect(await page.textContent('#self-rid')).to.equal(coord.rid);
    expect(await page.locator(`#graph g.node.self[data-rid="${coord.rid}"]`).count()).to.equal(1);

    const member = await net.start('member', { first: coord });
    await waitFor('an APPROVED edge member -> coordinator at the coordinator', () =>
      coord.node.graph.getEdgeProfile({ source: member.rid, target: coord.rid })?.status === 'APPROVED' ? true : undefined,
    );
    // The page picks up the new neighbour and its edges by itself.
    await page.waitForSelector(`#graph g.node[data-rid="${member.rid}"]`, { timeout: 30_000 });
    await page.waitForSelector('#graph line.edge[data-status="APPROVED"]', { state: 'attached', timeout: 30_000 });
    expect(watched.navigations(), 'main-frame navigations').to.equal(1);
    const neighbours = await page.textContent('#status');
    expect(neighbours).to.include(member.rid);
    expect(neighbours).to.include('orn:koi-net.node');
    await maybeScreenshot(page, 'status');
    expectOnlyNode(watched, browser, coord.origin);
    expect(watched.errors).to.deep.equal([]);

    // A person watching the page must not keep the node from shutting down; the page then says
    // its refresh failed instead of showing stale numbers silently.
    const closed = await Promise.race([coord.server.close().then(() => 'closed'), new Promise((r) => setTimeout(() => r('still open'), 20_000))]);
    expect(closed).to.equal('closed');
    await page.waitForFunction(() => document.getElementById('refresh-state')?.textContent?.includes('refresh failed'), undefined, { timeout: 20_000 });
    await page.close();
  });
});
