// A small OTLP/HTTP trace receiver for this machine, where no trace backend runs: POST /v1/traces in
// protobuf or JSON (gzip or not). It groups spans per trace and hands a trace on once it has a root and
// no span came for `quietMs`. A dev aid and a test fixture, not a collector: no auth, no retry, loopback.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { decodeProtobufSpanIds, decodeProtobufTraces, spansOf, type OtlpTraceRequest, type ReceivedSpan, type SpanIds } from './otlp-spans.js';

export interface FinishedTrace {
  traceId: string;
  spans: ReceivedSpan[];
  /** False when handed on after maxWaitMs without a span that has no parent. */
  complete: boolean;
}

export interface OtlpReceiverOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** A trace is finished once it has a root and no span of it came for this long (above OTEL_BSP_SCHEDULE_DELAY). */
  quietMs?: number;
  /** A trace without a root (its root was not exported, or it hangs under a caller's span) is handed on after this long. */
  maxWaitMs?: number;
  onTrace?: (trace: FinishedTrace) => void;
  /** Keep every span received (tests); otherwise a trace's spans are dropped once handed on. */
  keepSpans?: boolean;
  /**
   * Only count spans and traces (the benches): a protobuf body is read for its trace and parent ids alone, and
   * no span is kept. Not with onTrace or keepSpans, which need whole spans.
   */
  countOnly?: boolean;
}

export interface OtlpReceiver {
  /** The base URL to give as OTEL_EXPORTER_OTLP_ENDPOINT. */
  url: string;
  port: number;
  /** Every span received so far (only with keepSpans). */
  spans: ReceivedSpan[];
  stats: { requests: { protobuf: number; json: number; rejected: number }; spans: number; traces: number };
  /** Resolves with the kept spans once `ready(spans)` holds, or rejects after timeoutMs. */
  waitFor(ready: (spans: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  /** Hands on every pending trace, then stops listening. */
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 16 * 1024 * 1024;

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('body too large'));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function startOtlpReceiver(options: OtlpReceiverOptions = {}): Promise<OtlpReceiver> {
  const quietMs = options.quietMs ?? 2000;
  const maxWaitMs = options.maxWaitMs ?? 30_000;
  const countOnly = options.countOnly ?? false;
  if (countOnly && (options.onTrace || options.keepSpans)) throw new Error('countOnly keeps no span: not with onTrace or keepSpans');
  const pending = new Map<string, { spans: ReceivedSpan[]; first: number; last: number; hasRoot: boolean }>();
  const kept: ReceivedSpan[] = [];
  const waiters = new Set<() => void>();
  const stats = { requests: { protobuf: 0, json: 0, rejected: 0 }, spans: 0, traces: 0 };

  const handOn = (traceId: string, complete: boolean) => {
    const entry = pending.get(traceId);
    if (!entry) return;
    pending.delete(traceId);
    stats.traces++;
    options.onTrace?.({ traceId, spans: entry.spans, complete });
  };
  // Quiet and wait times on the monotonic clock: a wall clock stepped back would hold traces for the length of the step.
  const sweep = setInterval(() => {
    const now = performance.now();
    for (const [traceId, entry] of pending) {
      if (entry.hasRoot && now - entry.last >= quietMs) handOn(traceId, true);
      else if (now - entry.first >= maxWaitMs) handOn(traceId, false);
    }
  }, Math.max(10, Math.floor(quietMs / 4)));
  sweep.unref();

  /** Whole spans, or in countOnly mode their ids alone (then nothing is stored but the trace's entry). */
  const accept = (spans: ReceivedSpan[] | SpanIds[]) => {
    const now = performance.now();
    stats.spans += spans.length;
    for (const span of spans) {
      let entry = pending.get(span.traceId);
      if (!entry) {
        entry = { spans: [], first: now, last: now, hasRoot: false };
        pending.set(span.traceId, entry);
      }
      if (!countOnly) entry.spans.push(span as ReceivedSpan);
      entry.last = now;
      // Only a span without a parent counts: children end (and may be exported) before their parent, and each
      // process exports on its own schedule. A trace under a caller's traceparent waits for maxWaitMs.
      entry.hasRoot ||= !span.parentSpanId;
    }
    if (options.keepSpans) {
      kept.push(...(spans as ReceivedSpan[]));
      for (const wake of [...waiters]) wake();
    }
  };

  const answer = (res: ServerResponse, status: number, contentType: string, body: string | Buffer) => {
    res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };

  const server: Server = createServer((req, res) => {
    if (req.method !== 'POST' || req.url?.split('?')[0] !== '/v1/traces') {
      stats.requests.rejected++;
      answer(res, 404, 'text/plain', 'only POST /v1/traces\n');
      return;
    }
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
    readBody(req).then(
      (raw) => {
        try {
          // Decompressed within the same limit: a 1 MB body of gzipped zeros grew to 1 GB, held the event loop for 40 s
          // and was then refused as protobuf anyway; 16 MB of them would have grown to the 4 GB a Buffer may hold.
          const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw, { maxOutputLength: MAX_BODY_BYTES }) : raw;
          if (contentType === 'application/x-protobuf') {
            accept(countOnly ? decodeProtobufSpanIds(body) : spansOf(decodeProtobufTraces(body), true));
            stats.requests.protobuf++;
            answer(res, 200, 'application/x-protobuf', Buffer.alloc(0)); // an empty ExportTraceServiceResponse
          } else if (contentType === 'application/json') {
            accept(spansOf(JSON.parse(body.toString('utf8')) as OtlpTraceRequest, false));
            stats.requests.json++;
            answer(res, 200, 'application/json', '{}');
          } else {
            stats.requests.rejected++;
            answer(res, 415, 'text/plain', 'application/x-protobuf or application/json\n');
          }
        } catch (err) {
          stats.requests.rejected++;
          if ((err as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') answer(res, 413, 'text/plain', 'body too large once decompressed\n');
          else answer(res, 400, 'text/plain', `cannot read the export request: ${(err as Error).message}\n`);
        }
      },
      () => {
        stats.requests.rejected++;
        if (!res.headersSent) answer(res, 413, 'text/plain', 'body too large\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 4318, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port, address } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;

  return {
    url: `http://${host}:${port}`,
    port,
    spans: kept,
    stats,
    waitFor(ready, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!ready(kept)) return false;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(kept);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`the expected spans did not arrive within ${timeoutMs} ms (${kept.length} spans received)`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async close() {
      clearInterval(sweep);
      for (const [traceId, entry] of [...pending]) handOn(traceId, entry.hasRoot);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
