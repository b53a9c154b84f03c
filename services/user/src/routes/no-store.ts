/** onRequest hook: token answers are never kept by a cache (RFC 6749 5.1), errors included, so it runs before anything can fail. */
export async function noStore(_request: unknown, reply: { header(name: string, value: string): unknown }): Promise<void> {
  reply.header('cache-control', 'no-store');
  reply.header('pragma', 'no-cache');
}
