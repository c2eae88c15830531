/**
 * A webhook subscriber in its own process, so a test can SIGSTOP it: stopped, the kernel still
 * accepts connections into the listen backlog but nobody ever answers. Prints
 * `{"msg":"ready","url":...}`, then one line `{"t":<ms since epoch>,"rids":[...]}` per
 * broadcast received (t taken on arrival of the whole body), and answers 200.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const print = (line: object): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
};

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const t = Date.now();
    let rids: string[] = [];
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { events?: { rid?: unknown }[] };
      rids = (body.events ?? []).map((e) => String(e.rid));
    } catch {
      // not a broadcast body: answered anyway, reported with no RIDs
    }
    print({ t, rids });
    res.writeHead(200, { 'content-type': 'application/json' }).end('null');
  });
});
server.listen(0, '127.0.0.1', () => {
  print({ msg: 'ready', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/koi-net` });
});
process.on('SIGTERM', () => process.exit(0));
