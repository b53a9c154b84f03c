// OTLP trace export requests, as the receiver reads them: the protobuf body (decoded with protobufjs from
// the subset of opentelemetry/proto/trace/v1 and common/v1 that a receiver reads; unknown fields are
// skipped) and the JSON body (the same messages in camelCase, ids as hex) both become ReceivedSpan[].
import protobuf from 'protobufjs';

export type AttributeValue = string | number | boolean | null | AttributeValue[] | { [key: string]: AttributeValue };

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** Empty for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  startNs: bigint;
  endNs: bigint;
  attributes: Record<string, AttributeValue>;
  links: { traceId: string; spanId: string; attributes: Record<string, AttributeValue> }[];
  events: { name: string; attributes: Record<string, AttributeValue> }[];
  /** 0 unset, 1 ok, 2 error. */
  status: { code: number; message: string };
  /** service.name of the span's resource. */
  service: string;
  resource: Record<string, AttributeValue>;
  scope: string;
}

const keyValues = { rule: 'repeated', type: 'KeyValue' } as const;
/** Field numbers as in opentelemetry-proto (collector/trace/v1, trace/v1, common/v1, resource/v1). */
const OTLP_TRACE_SCHEMA = {
  nested: {
    ExportTraceServiceRequest: { fields: { resourceSpans: { rule: 'repeated', type: 'ResourceSpans', id: 1 } } },
    ResourceSpans: { fields: { resource: { type: 'Resource', id: 1 }, scopeSpans: { rule: 'repeated', type: 'ScopeSpans', id: 2 } } },
    Resource: { fields: { attributes: { ...keyValues, id: 1 } } },
    ScopeSpans: { fields: { scope: { type: 'InstrumentationScope', id: 1 }, spans: { rule: 'repeated', type: 'Span', id: 2 } } },
    InstrumentationScope: { fields: { name: { type: 'string', id: 1 }, version: { type: 'string', id: 2 } } },
    Span: {
      fields: {
        traceId: { type: 'bytes', id: 1 },
        spanId: { type: 'bytes', id: 2 },
        parentSpanId: { type: 'bytes', id: 4 },
        name: { type: 'string', id: 5 },
        kind: { type: 'int32', id: 6 },
        startTimeUnixNano: { type: 'fixed64', id: 7 },
        endTimeUnixNano: { type: 'fixed64', id: 8 },
        attributes: { ...keyValues, id: 9 },
        events: { rule: 'repeated', type: 'Event', id: 11 },
        links: { rule: 'repeated', type: 'Link', id: 13 },
        status: { type: 'Status', id: 15 },
      },
    },
    Event: { fields: { timeUnixNano: { type: 'fixed64', id: 1 }, name: { type: 'string', id: 2 }, attributes: { ...keyValues, id: 3 } } },
    Link: { fields: { traceId: { type: 'bytes', id: 1 }, spanId: { type: 'bytes', id: 2 }, attributes: { ...keyValues, id: 4 } } },
    Status: { fields: { message: { type: 'string', id: 2 }, code: { type: 'int32', id: 3 } } },
    KeyValue: { fields: { key: { type: 'string', id: 1 }, value: { type: 'AnyValue', id: 2 } } },
    AnyValue: {
      oneofs: { value: { oneof: ['stringValue', 'boolValue', 'intValue', 'doubleValue', 'arrayValue', 'kvlistValue', 'bytesValue'] } },
      fields: {
        stringValue: { type: 'string', id: 1 },
        boolValue: { type: 'bool', id: 2 },
        intValue: { type: 'int64', id: 3 },
        doubleValue: { type: 'double', id: 4 },
        arrayValue: { type: 'ArrayValue', id: 5 },
        kvlistValue: { type: 'KeyValueList', id: 6 },
        bytesValue: { type: 'bytes', id: 7 },
      },
    },
    ArrayValue: { fields: { values: { rule: 'repeated', type: 'AnyValue', id: 1 } } },
    KeyValueList: { fields: { values: { ...keyValues, id: 1 } } },
  },
};

const exportRequest = protobuf.Root.fromJSON(OTLP_TRACE_SCHEMA).lookupType('ExportTraceServiceRequest');

/**
 * The same messages reduced to what counting spans and traces needs: a span's trace id and whether it has a
 * parent. protobufjs skips every other field (attributes, names, events) without building anything.
 */
const idsRequest = protobuf.Root.fromJSON({
  nested: {
    ExportTraceServiceRequest: OTLP_TRACE_SCHEMA.nested.ExportTraceServiceRequest,
    ResourceSpans: { fields: { scopeSpans: { rule: 'repeated', type: 'ScopeSpans', id: 2 } } },
    ScopeSpans: { fields: { spans: { rule: 'repeated', type: 'Span', id: 2 } } },
    Span: { fields: { traceId: { type: 'bytes', id: 1 }, parentSpanId: { type: 'bytes', id: 4 } } },
  },
}).lookupType('ExportTraceServiceRequest');

/** A span as far as counting goes: its trace, and an empty parent for a root. */
export interface SpanIds {
  traceId: string;
  parentSpanId: string;
}

interface IdsMessage {
  resourceSpans?: { scopeSpans?: { spans?: { traceId?: Uint8Array; parentSpanId?: Uint8Array }[] }[] }[];
}

const hexOf = (bytes: Uint8Array | undefined) => (bytes && bytes.length > 0 ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex') : '');

/** The trace and parent ids of every span in an OTLP/HTTP protobuf body, nothing else decoded. */
export function decodeProtobufSpanIds(body: Uint8Array): SpanIds[] {
  const message = idsRequest.decode(body) as unknown as IdsMessage;
  const spans: SpanIds[] = [];
  for (const resourceSpans of message.resourceSpans ?? []) {
    for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
      for (const span of scopeSpans.spans ?? []) spans.push({ traceId: hexOf(span.traceId), parentSpanId: hexOf(span.parentSpanId) });
    }
  }
  return spans;
}

/** The OTLP/JSON shape (also what the protobuf body is converted to): ids hex, 64-bit numbers as strings. */
interface JsonAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: JsonAnyValue[] };
  kvlistValue?: { values?: JsonKeyValue[] };
  bytesValue?: string;
}
interface JsonKeyValue {
  key: string;
  value?: JsonAnyValue;
}
interface JsonSpan {
  traceId?: string;
  spanId?: string;
  parentSpanId?: string;
  name?: string;
  kind?: number | string;
  startTimeUnixNano?: string | number;
  endTimeUnixNano?: string | number;
  attributes?: JsonKeyValue[];
  events?: { name?: string; attributes?: JsonKeyValue[] }[];
  links?: { traceId?: string; spanId?: string; attributes?: JsonKeyValue[] }[];
  status?: { code?: number | string; message?: string };
}
export interface OtlpTraceRequest {
  resourceSpans?: { resource?: { attributes?: JsonKeyValue[] }; scopeSpans?: { scope?: { name?: string }; spans?: JsonSpan[] }[] }[];
}

/** Decodes an OTLP/HTTP protobuf body into the JSON shape. */
export function decodeProtobufTraces(body: Uint8Array): OtlpTraceRequest {
  const message = exportRequest.decode(body);
  return exportRequest.toObject(message, { longs: String, bytes: String, defaults: false }) as OtlpTraceRequest;
}

/** protobufjs renders bytes as base64; OTLP/JSON carries trace and span ids as hex. */
function hexId(value: string | undefined, fromBase64: boolean): string {
  if (!value) return '';
  return fromBase64 ? Buffer.from(value, 'base64').toString('hex') : value.toLowerCase();
}

function anyValue(value: JsonAnyValue | undefined): AttributeValue {
  if (!value) return null;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(anyValue);
  if (value.kvlistValue) return attributesOf(value.kvlistValue.values);
  if (value.bytesValue !== undefined) return value.bytesValue;
  return null;
}

function attributesOf(list: JsonKeyValue[] | undefined): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const { key, value } of list ?? []) out[key] = anyValue(value);
  return out;
}

const SPAN_KINDS: Record<string, number> = { SPAN_KIND_INTERNAL: 1, SPAN_KIND_SERVER: 2, SPAN_KIND_CLIENT: 3, SPAN_KIND_PRODUCER: 4, SPAN_KIND_CONSUMER: 5 };
const STATUS_CODES: Record<string, number> = { STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 };
const enumNumber = (value: number | string | undefined, names: Record<string, number>) => (typeof value === 'number' ? value : (names[value ?? ''] ?? 0));

/** The spans of one export request; `idsInBase64` for a decoded protobuf body. */
export function spansOf(request: OtlpTraceRequest, idsInBase64: boolean): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const resourceSpans of request.resourceSpans ?? []) {
    const resource = attributesOf(resourceSpans.resource?.attributes);
    const service = typeof resource['service.name'] === 'string' ? resource['service.name'] : 'unknown';
    for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
      for (const span of scopeSpans.spans ?? []) {
        spans.push({
          traceId: hexId(span.traceId, idsInBase64),
          spanId: hexId(span.spanId, idsInBase64),
          parentSpanId: hexId(span.parentSpanId, idsInBase64),
          name: span.name ?? '',
          kind: enumNumber(span.kind, SPAN_KINDS),
          startNs: BigInt(span.startTimeUnixNano ?? 0),
          endNs: BigInt(span.endTimeUnixNano ?? 0),
          attributes: attributesOf(span.attributes),
          links: (span.links ?? []).map((l) => ({ traceId: hexId(l.traceId, idsInBase64), spanId: hexId(l.spanId, idsInBase64), attributes: attributesOf(l.attributes) })),
          events: (span.events ?? []).map((e) => ({ name: e.name ?? '', attributes: attributesOf(e.attributes) })),
          status: { code: enumNumber(span.status?.code, STATUS_CODES), message: span.status?.message ?? '' },
          service,
          resource,
          scope: scopeSpans.scope?.name ?? '',
        });
      }
    }
  }
  return spans;
}
