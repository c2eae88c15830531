/** The node's identity (`koi_identity`) and signed-mode key (`koi_node_key`) rows. */
import type { IdentityStorage } from '../identity/index.ts';
import type { PemStorage } from '../secure/index.ts';
import type { PgDatabase } from './database.ts';

export function pgIdentityStorage(db: PgDatabase): IdentityStorage {
  return {
    where: `${db.where} (koi_identity)`,
    read: async () => {
      const { rows } = await db.query<{ rid: string; profile: unknown }>('SELECT rid, profile FROM koi_identity WHERE id = 1');
      return rows[0] ? { rid: rows[0].rid, profile: rows[0].profile } : undefined;
    },
    write: async ({ rid, profile }) => {
      await db.query(
        'INSERT INTO koi_identity (id, rid, profile) VALUES (1, $1, $2) ON CONFLICT (id) DO UPDATE SET rid = EXCLUDED.rid, profile = EXCLUDED.profile',
        [rid, JSON.stringify(profile)],
      );
    },
    create: async ({ rid, profile }) => {
      await db.query('INSERT INTO koi_identity (id, rid, profile) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING', [rid, JSON.stringify(profile)]);
      const { rows } = await db.query<{ rid: string }>('SELECT rid FROM koi_identity WHERE id = 1');
      return rows[0]?.rid ?? rid;
    },
  };
}

export function pgKeyStorage(db: PgDatabase): PemStorage {
  return {
    where: `${db.where} (koi_node_key)`,
    read: async () => {
      const { rows } = await db.query<{ pem: string }>('SELECT pem FROM koi_node_key WHERE id = 1');
      return rows[0]?.pem;
    },
    // Never overwritten: the key is the node's identity.
    write: async (pem) => {
      await db.query('INSERT INTO koi_node_key (id, pem) VALUES (1, $1) ON CONFLICT (id) DO NOTHING', [pem]);
    },
  };
}
