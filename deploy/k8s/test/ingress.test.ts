// The Ingress in front of the services, read as ingress-nginx reads it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BODY_LIMIT } from '@ecommerce/kit';
import { devOverlay, productionOverlay, renderKustomization, type K8sObject } from '../src/manifests.js';

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

/**
 * The ingress-nginx annotations this platform may use, each with the validator the controller's parser gives it
 * (kubernetes/ingress-nginx internal/ingress/annotations/proxy/main.go: proxy-body-size
 * ValidateRegex(parser.SizeRegex), proxy-read-timeout ValidateInt; parser/validators.go: SizeRegex
 * `^(?i)\d+[bkmg]?$`, ValidateInt = strconv.Atoi). The controller ignores an annotation it has no parser for (a
 * misspelt one changes nothing, silently), and a value that fails its validator leaves the whole Ingress out of
 * its configuration (annotations.go Extract returns the validation error, controller/store/store.go then skips the
 * Ingress). A new annotation goes here after reading its parser.
 */
const nginxAnnotations: Record<string, (value: string) => boolean> = {
  'proxy-body-size': (v) => /^\d+[bkmg]?$/i.test(v),
  'proxy-read-timeout': (v) => /^[+-]?\d+$/.test(v),
};

/**
 * ingress-nginx (v1.12 on: strict-validate-path-type, default true in internal/ingress/controller/config/config.go)
 * refuses an Ingress whose Exact or Prefix path holds anything but letters, digits, ".", "_", "-" and "/"
 * (internal/ingress/inspector/rules.go validPathType, checked in inspector.go ValidatePathType): its admission
 * webhook rejects the apply, and without the webhook the controller skips the Ingress.
 */
const strictPath = /^\/[A-Za-z0-9._\-/]*$/;

function ingressNginxProblems(ingresses: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const ingress of ingresses) {
    for (const [key, value] of Object.entries(ingress.metadata.annotations ?? {})) {
      if (!key.startsWith('nginx.ingress.kubernetes.io/')) continue;
      const name = key.slice('nginx.ingress.kubernetes.io/'.length);
      const valid = nginxAnnotations[name];
      if (!valid) problems.push(`${ingress.metadata.name}: ${key} is not an annotation ingress-nginx parses`);
      else if (!valid(value)) problems.push(`${ingress.metadata.name}: ${key}: ${JSON.stringify(value)} fails its validator`);
    }
    for (const rule of (ingress['spec'] as { rules: { http?: { paths: { path: string; pathType: string }[] } }[] }).rules) {
      for (const p of rule.http?.paths ?? []) {
        if (p.pathType !== 'ImplementationSpecific' && !strictPath.test(p.path)) problems.push(`${ingress.metadata.name}: path ${p.path} cannot be used with pathType ${p.pathType}`);
      }
    }
  }
  return problems;
}

test('ingress-nginx accepts every Ingress: known annotations with valid values, paths its strict path check allows', () => {
  const ingresses = [devOverlay, productionOverlay].flatMap((overlay) => renderKustomization(overlay).filter((o) => o.kind === 'Ingress'));
  assert.equal(ingresses.length, 2);
  assert.deepEqual(ingressNginxProblems(ingresses), []);
  // Not vacuous: a misspelt annotation, a value with a unit nginx-ingress refuses, a path with a regex character.
  const broken = structuredClone(ingresses[0]) as K8sObject;
  broken.metadata.annotations = { ...broken.metadata.annotations, 'nginx.ingress.kubernetes.io/proxy-body-size': '2MB', 'nginx.ingress.kubernetes.io/proxy-read-timout': '30' };
  (broken['spec'] as { rules: { http: { paths: { path: string }[] } }[] }).rules[0]!.http.paths[0]!.path = '/user(/|$)';
  assert.deepEqual(ingressNginxProblems([broken]), [
    'ecommerce: nginx.ingress.kubernetes.io/proxy-body-size: "2MB" fails its validator',
    'ecommerce: nginx.ingress.kubernetes.io/proxy-read-timout is not an annotation ingress-nginx parses',
    'ecommerce: path /user(/|$) cannot be used with pathType Prefix',
  ]);
});
