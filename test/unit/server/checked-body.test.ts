/** The app marks the bodies its contract check passed, so handlers need not check them again. */
import { expect } from 'chai';
import type { KoiNetHandlers } from '../../../generated/stubs/operations.ts';
import { createKoiNetApp, startServer } from '../../../src/server/index.ts';
import { isContractChecked, rawBodyOf } from '../../../src/server/checked-body.ts';
import { Bundle, Event, EventType } from '../../../src/knowledge/index.ts';
import { InMemoryNode, send } from './helpers.ts';

describe('server/checked-body', () => {
  it('a broadcast that passed the contract check reaches the handler marked, with the exact bytes it was parsed from', async () => {
    const seen: { checked: boolean; raw: string | undefined }[] = [];
    const node = new InMemoryNode();
    const handlers: KoiNetHandlers = {
      broadcastEvents: (b) => {
        seen.push({ checked: isContractChecked(b), raw: rawBodyOf(b)?.toString('utf8') });
        return node.broadcastEvents(b);
      },
      pollEvents: (b) => node.pollEvents(b),
      fetchRids: (b) => node.fetchRids(b),
      fetchManifests: (b) => node.fetchManifests(b),
      fetchBundles: (b) => node.fetchBundles(b),
    };
    const running = await startServer(createKoiNetApp({ handlers }), { port: 0 });
    try {
      const event = Event.fromBundle(Bundle.generate('orn:checked.test:a', { text: 'caf\u00e9' }), EventType.NEW).toJSON();
      const body = JSON.stringify({ events: [event] });
      expect((await send(`${running.url}/koi-net/events/broadcast`, { body })).status).to.equal(200);
      // Refused by the contract check: the handler is never called, so nothing unchecked is marked.
      const bad = JSON.stringify({ events: [{ ...event, rid: 'not a rid' }] });
      expect((await send(`${running.url}/koi-net/events/broadcast`, { body: bad })).status).to.equal(422);
      expect(seen).to.deep.equal([{ checked: true, raw: body }]);
    } finally {
      await running.close();
    }
    // A body built anywhere else is not marked: a handler called directly checks it in full.
    expect(isContractChecked({ events: [] })).to.equal(false);
    expect(rawBodyOf({ events: [] })).to.equal(undefined);
  });
});
