import { expect } from 'chai';
import { RID, RIDType } from '../../../src/rid/index.ts';
import { EventType, KnowledgeObject } from '../../../src/knowledge/index.ts';
import { InvalidRIDTypeError } from '../../../src/errors.ts';
import {
  HandlerType,
  ProcessorInterface,
  STOP_CHAIN,
  createHandler,
  handlerMatches,
  handlerName,
  isHandlerType,
  type HandlerType as HandlerTypeT,
} from '../../../src/processor/index.ts';
import { makeHarness } from './fixtures/harness.ts';

const kobj = (rid: string, eventType?: EventType): KnowledgeObject => KnowledgeObject.fromRid(RID.fromString(rid), eventType);

describe('processor/handler', () => {
  it('HandlerType is the closed set of five phases', () => {
    expect(Object.values(HandlerType)).to.deep.equal(['RID', 'Manifest', 'Bundle', 'Network', 'Final']);
    expect(isHandlerType('Bundle')).to.equal(true);
    expect(isHandlerType('bundle')).to.equal(false);
  });

  it('STOP_CHAIN is a unique symbol', () => {
    expect(typeof STOP_CHAIN).to.equal('symbol');
    expect(STOP_CHAIN).to.not.equal(Symbol('koi-net.STOP_CHAIN'));
  });

  it('createHandler normalizes RID type strings and names the handler after its function', () => {
    function myHandler(): void {}
    const h = createHandler(HandlerType.RID, { ridTypes: ['orn:koi-net.node', RIDType.fromString('https')] }, myHandler);
    expect(h.ridTypes?.map(String)).to.deep.equal(['orn:koi-net.node', 'https']);
    expect(h.ridTypes?.[0]).to.be.instanceOf(RIDType);
    expect(h.name).to.equal('myHandler');
    expect(handlerName(createHandler(HandlerType.RID, {}, () => undefined))).to.equal('anonymous RID handler');
    expect(handlerName(createHandler(HandlerType.RID, { name: 'x' }, () => undefined))).to.equal('x');
  });

  it('createHandler refuses an unknown phase or an invalid RID type at registration', () => {
    expect(() => createHandler('Cache' as HandlerTypeT, {}, () => undefined)).to.throw(TypeError, /unknown handler type/);
    expect(() => createHandler(HandlerType.RID, { ridTypes: ['orn'] }, () => undefined)).to.throw(InvalidRIDTypeError);
  });

  describe('handlerMatches', () => {
    const fn = (): void => {};
    it('no filters: everything', () => {
      expect(handlerMatches(createHandler(HandlerType.RID, {}, fn), kobj('orn:test.thing:a'))).to.equal(true);
    });
    it('empty filters behave as none, as in the reference', () => {
      expect(handlerMatches(createHandler(HandlerType.RID, { ridTypes: [], eventTypes: [] }, fn), kobj('orn:test.thing:a'))).to.equal(true);
    });
    it('ridTypes: exact RID type', () => {
      const h = createHandler(HandlerType.RID, { ridTypes: ['orn:test.thing'] }, fn);
      expect(handlerMatches(h, kobj('orn:test.thing:a'))).to.equal(true);
      expect(handlerMatches(h, kobj('orn:test.things:a'))).to.equal(false);
      expect(handlerMatches(h, kobj('https://example.com/x'))).to.equal(false);
    });
    it('eventTypes: the kobj event type must be listed; none never matches', () => {
      const h = createHandler(HandlerType.RID, { eventTypes: [EventType.NEW, EventType.UPDATE] }, fn);
      expect(handlerMatches(h, kobj('orn:test.thing:a', EventType.NEW))).to.equal(true);
      expect(handlerMatches(h, kobj('orn:test.thing:a', EventType.FORGET))).to.equal(false);
      expect(handlerMatches(h, kobj('orn:test.thing:a'))).to.equal(false);
    });
    it('both filters must pass', () => {
      const h = createHandler(HandlerType.RID, { ridTypes: ['orn:test.thing'], eventTypes: [EventType.NEW] }, fn);
      expect(handlerMatches(h, kobj('orn:test.thing:a', EventType.NEW))).to.equal(true);
      expect(handlerMatches(h, kobj('orn:test.other:a', EventType.NEW))).to.equal(false);
      expect(handlerMatches(h, kobj('orn:test.thing:a', EventType.UPDATE))).to.equal(false);
    });
  });

  it('registerHandler returns the registered handler; addHandler keeps order after the defaults', async () => {
    const h = await makeHarness();
    try {
      const reg = h.processor.registerHandler(HandlerType.Final, { name: 'mine' }, () => undefined);
      expect(reg.name).to.equal('mine');
      expect(h.processor.registeredHandlers.map((x) => x.name)).to.deep.equal([
        'basicRidHandler',
        'basicManifestHandler',
        'secureProfileHandler',
        'edgeNegotiationHandler',
        'basicNetworkOutputFilter',
        'forgetNodeHandler',
        'mine',
      ]);
    } finally {
      await h.close();
    }
  });

  it('a processor without components access does not touch them until processing (late wiring)', async () => {
    let touched = false;
    const late = {
      get cache(): never {
        touched = true;
        throw new Error('not initialized');
      },
      get identity(): never {
        touched = true;
        throw new Error('not initialized');
      },
      get graph(): never {
        touched = true;
        throw new Error('not initialized');
      },
      get network(): never {
        touched = true;
        throw new Error('not initialized');
      },
    };
    const p = new ProcessorInterface(late, { autoProcess: false });
    p.registerHandler(HandlerType.RID, {}, () => undefined);
    await p.handle({ rid: 'orn:test.thing:a' });
    expect(touched).to.equal(false);
    expect(p.queueDepth).to.equal(1);
  });
});

describe('processor/handler: typing of handler functions', () => {
  it('async handlers may return STOP_CHAIN or a kobj without annotations (compile-time check)', () => {
    const h = createHandler(HandlerType.RID, {}, async (_ctx, k) => {
      await Promise.resolve();
      if (k.eventType === EventType.FORGET) return STOP_CHAIN;
      return k;
    });
    expect(h.handlerType).to.equal('RID');
  });
});
