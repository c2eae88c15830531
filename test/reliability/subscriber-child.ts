/**
 * A webhook subscriber in its own process, so a test can SIGSTOP it: stopped, the kernel still
 * accepts connections into the listen backlog but nobody ever answers. Prints
 * `{"msg":"ready","url":...}`, then one line `{"t":<ms since epoch>,"rids":[...]}` per
 * broadcast received (t taken on arrival of the whole body), and answers 200.
 */
import { BroadcastPeer } from '../helpers/fake-peer.ts';

const print = (line: object): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
};

const peer = new BroadcastPeer();
peer.answer = (_call, rids) => {
  print({ t: Date.now(), rids });
  return 200;
};
await peer.start();
print({ msg: 'ready', url: peer.baseUrl });
process.on('SIGTERM', () => process.exit(0));
