import type { ServiceClientRepository } from '../data/service-client-repository.js';
import { hashPassword, verifyPassword } from '../model/passwords.js';
import type { ServiceClientConfig } from '../model/service-client.js';

/**
 * Stores the configured clients with argon2id hashes of their secrets (re-hashing only when a secret changed), and
 * deletes those no longer configured: the configuration is the list of clients, so taking one out of it revokes it
 * (tokens already issued to it live out SERVICE_TOKEN_TTL_SECONDS). Returns the ids deleted.
 */
export async function syncServiceClients(deps: { serviceClientRepository: ServiceClientRepository }, clients: ServiceClientConfig[]): Promise<string[]> {
  const repo = deps.serviceClientRepository;
  const removed = await repo.removeAllBut(clients.map((c) => c.id));
  for (const c of clients) {
    const stored = await repo.secretHash(c.id);
    const secretHash = stored && (await verifyPassword(stored, c.secret)) ? stored : await hashPassword(c.secret);
    await repo.upsert(c.id, secretHash, c.scopes);
  }
  return removed;
}
