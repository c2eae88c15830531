/**
 * The schema, as ordered migrations. `koi_schema_version` holds one row per applied migration;
 * the node applies the missing ones at open, each in its own transaction, under an advisory lock
 * so that several processes opening one database at once migrate it once. A database whose
 * version is above the last one here was written by a newer koi-net: it is refused, never
 * "downgraded" by guesswork.
 *
 * Never edit a migration once released: add the next one.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'knowledge, queues, inbox, identity',
    sql: `
      -- Knowledge: one row per bundle; the manifest as columns (its wire timestamp kept as text,
      -- exactly as signed and hashed), the contents as JSONB.
      CREATE TABLE koi_bundles (
        rid         text PRIMARY KEY,
        rid_type    text NOT NULL,
        timestamp   text NOT NULL,
        sha256_hash text NOT NULL,
        contents    jsonb NOT NULL,
        updated_at  timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX koi_bundles_rid_type ON koi_bundles (rid_type);

      -- Outgoing event queues: one row per queued event (its wire JSON text) and peer, in id order per (kind, peer).
      -- inflight = taken by a webhook flush, not yet acknowledged. claimed_by / claimed_at are
      -- for several processes (a worker's claim, FOR UPDATE SKIP LOCKED); one process leaves them null.
      CREATE SEQUENCE koi_queue_events_id;
      CREATE TABLE koi_queue_events (
        id         bigint PRIMARY KEY DEFAULT nextval('koi_queue_events_id'),
        kind       text NOT NULL CHECK (kind IN ('webhook', 'poll')),
        peer       text NOT NULL,
        event      text NOT NULL,
        inflight   boolean NOT NULL DEFAULT false,
        claimed_by text,
        claimed_at timestamptz,
        queued_at  timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX koi_queue_events_peer ON koi_queue_events (kind, peer, id);

      -- The inbox of acknowledged broadcasts: a row is written before the 200; the checkpoint
      -- says how far processing got, and rows at or below it are deleted. Kept as JSON text, as
      -- it came (JSONB cannot hold a \\u0000 that a valid event may carry).
      CREATE TABLE koi_inbox (
        seq         bigint PRIMARY KEY,
        events      text NOT NULL,
        accepted_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE koi_inbox_checkpoint (
        id  smallint PRIMARY KEY CHECK (id = 1),
        seq bigint NOT NULL
      );

      -- The node's identity (RID + profile) and its signed-mode key (PEM, encrypted as the file
      -- backend writes it when a password is set).
      CREATE TABLE koi_identity (
        id      smallint PRIMARY KEY CHECK (id = 1),
        rid     text NOT NULL,
        profile jsonb NOT NULL
      );
      CREATE TABLE koi_node_key (
        id  smallint PRIMARY KEY CHECK (id = 1),
        pem text NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'several processes: inbox rows and checkpoints per owning process',
    sql: `
      -- Each process appends under its own owner id (a UUID per process start) with its own
      -- contiguous seqs, and checkpoints them; a process that starts adopts the rows of owners
      -- whose session is gone (a killed worker) and replays them.
      ALTER TABLE koi_inbox ADD COLUMN owner text NOT NULL DEFAULT '';
      ALTER TABLE koi_inbox DROP CONSTRAINT koi_inbox_pkey;
      ALTER TABLE koi_inbox ADD PRIMARY KEY (owner, seq);
      CREATE TABLE koi_inbox_checkpoints (
        owner text PRIMARY KEY,
        seq   bigint NOT NULL
      );
      INSERT INTO koi_inbox_checkpoints (owner, seq) SELECT '', seq FROM koi_inbox_checkpoint;
      DROP TABLE koi_inbox_checkpoint;

      -- Webhook claims: rows a process has in flight, found by their claimant.
      CREATE INDEX koi_queue_events_claims ON koi_queue_events (claimed_by) WHERE inflight;
    `,
  },
  {
    version: 3,
    name: 'config carried by koi-net migrate',
    sql: `
      -- The koi-net.yaml of a node moved here from its data dir by \`koi-net migrate --from DIR
      -- --store URL\` (store and data_dir left out), so that \`migrate --from-store\` writes it
      -- back. The running node never reads it: its config comes from its file, env and flags.
      CREATE TABLE koi_config (
        id          smallint PRIMARY KEY CHECK (id = 1),
        yaml        text NOT NULL,
        source      text NOT NULL,
        migrated_at timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
