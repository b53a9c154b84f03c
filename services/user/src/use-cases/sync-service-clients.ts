import type { ServiceClientRepository } from '../data/service-client-repository.js';
import { hashPassword, verifyPassword } from '../model/passwords.js';
import type { ServiceClientConfig } from '../model/service-client.js';

/** Stores the configured clients with argon2id hashes of their secrets (re-hashing only when a secret changed). */
export async function syncServiceClients(deps: { serviceClientRepository: ServiceClientRepository }, clients: ServiceClientConfig[]): Promise<void> {
  const repo = deps.serviceClientRepository;
  for (const c of clients) {
    const stored = await repo.secretHash(c.id);
    const secretHash = stored && (await verifyPassword(stored, c.secret)) ? stored : await hashPassword(c.secret);
    await repo.upsert(c.id, secretHash, c.scopes);
  }
}
