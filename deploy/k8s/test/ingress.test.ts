// The Ingress in front of the services, read as ingress-nginx reads it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BODY_LIMIT } from '@ecommerce/kit';
import { devOverlay, productionOverlay, renderKustomization } from '../src/manifests.js';

/**
 * A size as nginx reads client_max_body_size (ngx_parse_offset in src/core/ngx_parse.c): a
 * number, optionally followed by k/K (x1024), m/M (x1024^2) or g/G (x1024^3); anything else is a
 * configuration error (NaN here). ingress-nginx writes the proxy-body-size annotation there as it is.
 */
function nginxSize(text: string): number {
  const m = /^(\d+)([kKmMgG]?)$/.exec(text);
  if (!m) return Number.NaN;
  const scale = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m[2] ?? '').toLowerCase()] ?? Number.NaN;
  return Number(m[1]) * scale;
}

test('nginx reads sizes as ngx_parse_offset does', () => {
  assert.equal(nginxSize('1m'), 1048576);
  assert.equal(nginxSize('2M'), 2 * 1048576);
  assert.equal(nginxSize('512k'), 524288);
  assert.equal(nginxSize('1000'), 1000);
  assert.ok(Number.isNaN(nginxSize('1MB')) && Number.isNaN(nginxSize('1.5m')));
});

test('the ingress lets through every body a service refuses itself, so an oversized body gets the service\'s problem+json 413, not nginx\'s HTML one', () => {
  // nginx answers 413 (its own text/html page) when Content-Length > client_max_body_size
  // (ngx_http_core_module.c, "client intended to send too large body"), before any upstream sees
  // the request; a service refuses over BODY_LIMIT with application/problem+json naming the limit.
  // With the edge at exactly BODY_LIMIT (1m), a body of BODY_LIMIT + 1 bytes got nginx's page.
  for (const overlay of [devOverlay, productionOverlay]) {
    for (const ingress of renderKustomization(overlay).filter((o) => o.kind === 'Ingress')) {
      const value = ingress.metadata.annotations?.['nginx.ingress.kubernetes.io/proxy-body-size'];
      assert.ok(value, `${overlay}: ${ingress.metadata.name} sets no proxy-body-size (ingress-nginx's default is 1m, = BODY_LIMIT)`);
      const size = nginxSize(value);
      assert.ok(size > BODY_LIMIT, `${overlay}: ${ingress.metadata.name}: proxy-body-size ${value} (${size} bytes) must exceed the services' ${BODY_LIMIT}`);
      // Still a bound: 0 would turn the check off, and nginx buffers a request body to disk before it proxies it.
      assert.ok(size <= 4 * BODY_LIMIT, `${overlay}: ${ingress.metadata.name}: proxy-body-size ${value} is far above any service limit`);
    }
  }
});
