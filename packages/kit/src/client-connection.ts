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

/** nginx's status for a request whose client went away before the answer ("client closed request"): never sent, only logged, counted and traced. */
export const CLIENT_CLOSED_REQUEST = 499;

/** Connections the kit answered itself, straight on the socket (writeRawProblem: Node's parser refused the request, a timeout), and the status. */
const rawAnswers = new WeakMap<object, number>();

/** Notes the status the kit wrote on this connection itself, before any answer of a route. */
export function noteRawAnswer(socket: object, status: number): void {
  rawAnswers.set(socket, status);
}

/**
 * The status of a request left without an answer of its own (Fastify's onRequestAbort: its connection closed before
 * the answer), as its metrics and its log line say it: the one the kit wrote on its connection itself (a 408 when its
 * body did not arrive within the request timeout, a 400 when Node's parser refused the rest of it), else 499, nginx's
 * "client closed request": the client went away first, nothing was sent.
 */
export function abandonedStatus(request: { raw: { socket?: unknown } }): number {
  const socket = request.raw.socket;
  return (typeof socket === 'object' && socket !== null ? rawAnswers.get(socket) : undefined) ?? CLIENT_CLOSED_REQUEST;
}

type AbandonedHook = (request: object, reply: { statusCode: number; raw: { headersSent: boolean } }) => void;
let abandonedHook: AbandonedHook | undefined;

/**
 * Called for every request whose connection closes before its answer was all written (the kit's request context, as it
 * writes its log line): the tracing preload ends the request's server span there (packages/telemetry/src/sdk.ts). One
 * per process; only an abandoned request reaches it.
 */
export function onAnyAbandoned(hook: AbandonedHook): void {
  abandonedHook = hook;
}

/** Tells the hook (onAnyAbandoned) that this request was abandoned. */
export function tellAbandoned(request: object, reply: { statusCode: number; raw: { headersSent: boolean } }): void {
  abandonedHook?.(request, reply);
}
