import type { Queryable } from '@ecommerce/kit';

/** The service clients of the client-credentials grant: an argon2id hash of each secret and its scopes. */
export class ServiceClientRepository {
  constructor(private readonly db: Queryable) {}

  /** The stored secret hash for the sync at start-up. */
  async secretHash(id: string): Promise<string | undefined> {
    return (await this.db.query<{ secret_hash: string }>('client_get', 'SELECT secret_hash FROM service_clients WHERE id = $1', [id])).rows[0]?.secret_hash;
  }

  async upsert(id: string, secretHash: string, scopes: string[]): Promise<void> {
    await this.db.query(
      'client_upsert',
      `INSERT INTO service_clients (id, secret_hash, scopes) VALUES ($1, $2, $3)
       ON CONFLICT (id) DO UPDATE SET secret_hash = EXCLUDED.secret_hash, scopes = EXCLUDED.scopes, updated_at = now()`,
      [id, secretHash, scopes],
    );
  }

  /**
   * Deletes every client but these: one taken out of the configuration (retired, or its secret leaked) must not go on
   * authenticating with the hash stored when it was configured.
   */
  async removeAllBut(ids: string[]): Promise<string[]> {
    const { rows } = await this.db.query<{ id: string }>('client_remove_others', 'DELETE FROM service_clients WHERE id <> ALL($1::text[]) RETURNING id', [ids]);
    return rows.map((r) => r.id);
  }

  /** What authenticates a client: its secret hash and the scopes it may have. */
  async credentials(id: string): Promise<{ secret_hash: string; scopes: string[] } | undefined> {
    return (await this.db.query<{ secret_hash: string; scopes: string[] }>('client_auth', 'SELECT secret_hash, scopes FROM service_clients WHERE id = $1', [id])).rows[0];
  }
}
