// The services' OpenAPI documents, as served through the gateway, and the parts the generator needs:
// operation summaries and success-response schemas with their $refs inlined (Postman's Ajv sees one schema).

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

const SERVICES = ['user', 'product', 'order'] as const;
type Service = (typeof SERVICES)[number];
export type OpenApiDocs = Record<Service, JsonObject>;
const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;
type Method = Uppercase<(typeof METHODS)[number]>;

export interface Operation {
  readonly service: Service;
  readonly method: Method;
  /** OpenAPI path template, e.g. /product/{id} */
  readonly path: string;
  readonly summary: string;
  /** The names of the query parameters it declares (`limit`, `cursor`, `id`, ...). */
  readonly queryParameters: readonly string[];
  /** Response schema by status code ('201'), $refs inlined; absent when the document declares none. */
  readonly responses: Record<string, JsonObject | undefined>;
}

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** GET /<prefix>/openapi.json of every service through `baseUrl` (the gateway). */
export async function fetchOpenApiDocs(baseUrl: string): Promise<OpenApiDocs> {
  const entries = await Promise.all(
    SERVICES.map(async (service) => {
      const res = await fetch(`${baseUrl}/${service}/openapi.json`, { signal: AbortSignal.timeout(10_000) });
      if (res.status !== 200) throw new Error(`GET /${service}/openapi.json answered ${res.status}`);
      const doc = (await res.json()) as Json;
      if (!isObject(doc) || typeof doc.openapi !== 'string' || !doc.openapi.startsWith('3.')) throw new Error(`/${service}/openapi.json is not an OpenAPI 3 document`);
      return [service, doc] as const;
    }),
  );
  return Object.fromEntries(entries) as OpenApiDocs;
}

/** Replaces every local `$ref` (#/components/schemas/X) by the schema it names. */
function inlineRefs(schema: Json, doc: JsonObject, seen: readonly string[] = []): Json {
  if (Array.isArray(schema)) return schema.map((s) => inlineRefs(s, doc, seen));
  if (!isObject(schema)) return schema;
  const ref = schema.$ref;
  if (typeof ref === 'string') {
    if (!ref.startsWith('#/') || seen.includes(ref)) throw new Error(`cannot inline $ref ${ref}`);
    let target: Json | undefined = doc;
    for (const part of ref.slice(2).split('/')) target = isObject(target) ? target[part.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined;
    if (target === undefined) throw new Error(`dangling $ref ${ref}`);
    return inlineRefs(target, doc, [...seen, ref]);
  }
  return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, inlineRefs(v, doc, seen)]));
}

/** Every operation of the three documents (the hidden openapi.json route is not in them). */
export function listOperations(docs: OpenApiDocs): Operation[] {
  const ops: Operation[] = [];
  for (const service of SERVICES) {
    const doc = docs[service];
    const paths = doc.paths;
    if (!isObject(paths)) continue;
    for (const [path, item] of Object.entries(paths)) {
      if (!isObject(item)) continue;
      for (const m of METHODS) {
        const op = item[m];
        if (!isObject(op)) continue;
        const responses: Record<string, JsonObject | undefined> = {};
        for (const [status, response] of Object.entries(isObject(op.responses) ? op.responses : {})) {
          const content = isObject(response) && isObject(response.content) ? response.content['application/json'] : undefined;
          const schema = isObject(content) ? content.schema : undefined;
          const inlined = schema === undefined ? undefined : inlineRefs(schema, doc);
          responses[status] = isObject(inlined) ? inlined : undefined;
        }
        const queryParameters = (Array.isArray(op.parameters) ? op.parameters : []).flatMap((p) => (isObject(p) && p.in === 'query' && typeof p.name === 'string' ? [p.name] : []));
        ops.push({ service, method: m.toUpperCase() as Method, path, summary: typeof op.summary === 'string' ? op.summary : '', queryParameters, responses });
      }
    }
  }
  return ops;
}
