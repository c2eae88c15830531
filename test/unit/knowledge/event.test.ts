import { expect } from 'chai';
import { RID } from '../../../src/rid/index.ts';
import {
  Bundle,
  Event,
  eventWireText,
  eventsPayloadText,
  EventType,
  KnowledgeObject,
  KnowledgeSource,
  Manifest,
  parseEventType,
  type JsonObject,
} from '../../../src/knowledge/index.ts';
import { InvalidContentsError, InvalidEventTypeError, KoiNetError } from '../../../src/errors.ts';

const NODE = 'orn:koi-net.node:coordinator+0edc41e9-ca87-4ed7-a386-205e9281472d';
const PEER = 'orn:koi-net.node:partial+e454c8823a2108493e0a2bc4ace2618b4e5a86cb915f2098e4f8c0d9c9e16086';

describe('knowledge/EventType', () => {
  it('has exactly NEW, UPDATE, FORGET', () => {
    expect(Object.values(EventType)).to.deep.equal(['NEW', 'UPDATE', 'FORGET']);
    for (const t of Object.values(EventType)) expect(parseEventType(t)).to.equal(t);
  });
  it('anything else -> InvalidEventTypeError', () => {
    for (const bad of ['new', 'DELETE', '', ' NEW', null, undefined, 1, {}]) {
      expect(() => parseEventType(bad)).to.throw(InvalidEventTypeError);
    }
  });
});

describe('knowledge/Event', () => {
  const bundle = Bundle.generate(NODE, { a: 1 });

  it('fromRid / fromManifest / fromBundle', () => {
    const e1 = Event.fromRid(NODE, EventType.FORGET);
    expect(e1.rid.toString()).to.equal(NODE);
    expect(e1.manifest).to.equal(undefined);
    expect(e1.bundle).to.equal(undefined);
    expect(e1.toJSON()).to.deep.equal({ rid: NODE, event_type: 'FORGET' });

    const e2 = Event.fromManifest(bundle.manifest, EventType.UPDATE);
    expect(e2.manifest).to.equal(bundle.manifest);
    expect(e2.bundle).to.equal(undefined);
    expect(Object.keys(e2.toJSON())).to.deep.equal(['rid', 'event_type', 'manifest']);

    const e3 = Event.fromBundle(bundle, EventType.NEW);
    expect(e3.bundle?.toJSON()).to.deep.equal(bundle.toJSON());
    expect(Object.keys(e3.toJSON())).to.deep.equal(['rid', 'event_type', 'manifest', 'contents']);
  });

  it('fromJSON reads Python-style nulls and round-trips', () => {
    const forget = Event.fromJSON({ rid: NODE, event_type: 'FORGET', manifest: null, contents: null });
    expect(forget.manifest).to.equal(undefined);
    expect(forget.contents).to.equal(undefined);
    expect(forget.toJSON()).to.deep.equal({ rid: NODE, event_type: 'FORGET' });
    const wire = JSON.parse(JSON.stringify(Event.fromBundle(bundle, EventType.NEW))) as unknown;
    expect(Event.fromJSON(wire).toJSON()).to.deep.equal(wire);
  });

  it('fromJSON refuses unknown event types and bad bodies with typed errors', () => {
    expect(() => Event.fromJSON({ rid: NODE, event_type: 'DELETE' })).to.throw(KoiNetError);
    expect(() => Event.fromJSON({ rid: NODE })).to.throw(KoiNetError);
    expect(() => Event.fromJSON({ rid: NODE, event_type: 'NEW', contents: [1] })).to.throw(KoiNetError);
    expect(() => new Event({ rid: RID.fromString(NODE), eventType: 'DELETE' as EventType })).to.throw(InvalidEventTypeError);
    expect(() => new Event({ rid: RID.fromString(NODE), eventType: 'NEW', contents: [] as unknown as JsonObject })).to.throw(
      InvalidContentsError,
    );
  });
});

describe('knowledge/KnowledgeObject', () => {
  const bundle = Bundle.generate(NODE, { a: 1 });

  it('constructors fill rid, manifest, contents, eventType, source', () => {
    const k1 = KnowledgeObject.fromRid(NODE);
    expect(k1.rid.toString()).to.equal(NODE);
    expect(k1.source).to.equal(KnowledgeSource.INTERNAL);
    expect(k1.eventType).to.equal(undefined);
    expect(k1.networkTargets.size).to.equal(0);

    const k2 = KnowledgeObject.fromManifest(bundle.manifest, EventType.UPDATE, KnowledgeSource.EXTERNAL);
    expect(k2.manifest).to.equal(bundle.manifest);
    expect(k2.contents).to.equal(undefined);
    expect(k2.bundle).to.equal(undefined);
    expect(k2.eventType).to.equal('UPDATE');
    expect(k2.source).to.equal('EXTERNAL');

    const k3 = KnowledgeObject.fromBundle(bundle, EventType.NEW);
    expect(k3.bundle?.toJSON()).to.deep.equal(bundle.toJSON());
    expect(k3.rid.toString()).to.equal(NODE);
  });

  it('fromEvent takes the event type, an override, and either argument order for source', () => {
    const ev = Event.fromBundle(bundle, EventType.NEW);
    const k1 = KnowledgeObject.fromEvent(ev);
    expect([k1.eventType, k1.source]).to.deep.equal(['NEW', 'INTERNAL']);
    expect(k1.bundle?.toJSON()).to.deep.equal(bundle.toJSON());
    const k2 = KnowledgeObject.fromEvent(ev, KnowledgeSource.EXTERNAL);
    expect([k2.eventType, k2.source]).to.deep.equal(['NEW', 'EXTERNAL']);
    const k3 = KnowledgeObject.fromEvent(ev, EventType.UPDATE, KnowledgeSource.EXTERNAL);
    expect([k3.eventType, k3.source]).to.deep.equal(['UPDATE', 'EXTERNAL']);
    const k4 = KnowledgeObject.fromEvent(ev, undefined, KnowledgeSource.EXTERNAL);
    expect([k4.eventType, k4.source]).to.deep.equal(['NEW', 'EXTERNAL']);
  });

  it('refuses unknown event types and non-object contents', () => {
    expect(() => KnowledgeObject.fromRid(NODE, 'DELETE' as EventType)).to.throw(InvalidEventTypeError);
    expect(() => new KnowledgeObject({ rid: RID.fromString(NODE), contents: 'x' as unknown as JsonObject })).to.throw(
      InvalidContentsError,
    );
    expect(() => new KnowledgeObject({ rid: RID.fromString(NODE), source: 'ELSEWHERE' as KnowledgeSource })).to.throw(
      KoiNetError,
    );
  });

  it('normalizedEvent: NEW/UPDATE carry the bundle, FORGET the RID only, unset throws', () => {
    const k = KnowledgeObject.fromBundle(bundle, EventType.NEW);
    expect(() => k.normalizedEvent).to.throw(KoiNetError);
    k.normalizedEventType = EventType.UPDATE;
    expect(k.normalizedEvent.toJSON()).to.deep.equal(Event.fromBundle(bundle, EventType.UPDATE).toJSON());
    k.normalizedEventType = EventType.FORGET;
    expect(k.normalizedEvent.toJSON()).to.deep.equal({ rid: NODE, event_type: 'FORGET' });
  });

  it('with() returns a modified copy and leaves the original alone', () => {
    const k = KnowledgeObject.fromBundle(bundle, EventType.NEW, KnowledgeSource.EXTERNAL);
    k.networkTargets.add(PEER);
    const m = Manifest.generate(NODE, { a: 2 });
    const k2 = k.with({ manifest: m, contents: { a: 2 }, normalizedEventType: EventType.UPDATE });
    expect(k2).to.not.equal(k);
    expect(k2.manifest).to.equal(m);
    expect(k2.contents).to.deep.equal({ a: 2 });
    expect(k2.normalizedEventType).to.equal('UPDATE');
    expect(k2.source).to.equal('EXTERNAL');
    expect([...k2.networkTargets]).to.deep.equal([PEER]);
    k2.networkTargets.add(NODE);
    expect(k.networkTargets.size).to.equal(1);
    expect(k.manifest).to.equal(bundle.manifest);
    const k3 = k.with({ contents: undefined });
    expect(k3.contents).to.equal(undefined);
    expect(k3.bundle).to.equal(undefined);
  });

  it('clone() deep-copies contents, keeping __proto__ keys', () => {
    const contents = JSON.parse('{"__proto__":{"polluted":true},"n":{"v":1}}') as JsonObject;
    const k = KnowledgeObject.fromBundle(Bundle.generate(NODE, contents));
    const c = k.clone();
    expect(c.contents).to.not.equal(k.contents);
    expect(JSON.stringify(c.contents)).to.equal(JSON.stringify(contents));
    expect(Object.prototype.hasOwnProperty.call(c.contents, '__proto__')).to.equal(true);
    ((c.contents as JsonObject).n as JsonObject).v = 2;
    expect(((k.contents as JsonObject).n as JsonObject).v).to.equal(1);
  });
});

describe('knowledge/eventWireText and eventsPayloadText', () => {
  const bundle = Bundle.generate('orn:test.doc:wire', { text: 'é "quoted"', n: 1.5, nested: { a: [1, null] } });
  const events = [Event.fromBundle(bundle, EventType.NEW), Event.fromRid('orn:test.doc:gone', EventType.FORGET)];

  it('is JSON.stringify of the wire event, made once per Event object', () => {
    const text = eventWireText(events[0]!);
    expect(text).to.equal(JSON.stringify(events[0]!.toJSON()));
    expect(eventWireText(events[0]!)).to.equal(text);
    expect(JSON.parse(eventWireText(events[1]!))).to.deep.equal({ rid: 'orn:test.doc:gone', event_type: 'FORGET' });
  });

  it('builds the same {"events": [...]} a typed body serializes to, also for none', () => {
    expect(eventsPayloadText(events)).to.equal(JSON.stringify({ events: events.map((e) => e.toJSON()) }));
    expect(eventsPayloadText([])).to.equal('{"events":[]}');
  });
});
