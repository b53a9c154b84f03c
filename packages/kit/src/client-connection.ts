import type { Socket } from 'node:net';

/**
 * Whether the client of `request` has closed its connection: nothing answered now can reach it. Node detaches a
 * closed connection from its request (socket null), or it is still attached and destroyed. A property read, no
 * listener: cheap enough to ask on every request's hot path.
 */
export function clientGone(request: { raw: { socket?: unknown } }): boolean {
  const socket = request.raw.socket as Socket | null;
  return !socket || socket.destroyed;
}
