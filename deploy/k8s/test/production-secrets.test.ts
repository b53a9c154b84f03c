// The production overlay ships no Secret; create-secrets.sh (or External
// Secrets) must create exactly what its workloads read. The script runs here
// against a recording stand-in for kubectl, with the real openssl.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataOf, k8sDir, parseYaml, podTemplate, productionOverlay, renderKustomization, validateObject, type K8sObject } from '../src/manifests.js';

const script = join(k8sDir, 'overlays/production/create-secrets.sh');

/** Secret name -> keys that the workloads of the production overlay read. */
function needed(): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const w of renderKustomization(productionOverlay).filter((o: K8sObject) => podTemplate(o))) {
    const spec = podTemplate(w)?.spec;
    for (const c of [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])]) {
      for (const e of c.env ?? []) {
        const ref = e.valueFrom?.secretKeyRef;
        if (ref) out.set(ref.name, (out.get(ref.name) ?? new Set()).add(ref.key));
      }
    }
  }
  return out;
}

interface Run {
  status: number | null;
  output: string;
  created: Map<string, Record<string, string>>;
  applied: string[];
}

/** Runs create-secrets.sh with a fake kubectl that records what it is asked to create. */
function runScript(env: Record<string, string>, existing: string[] = []): Run {
  const dir = mkdtempSync(join(tmpdir(), 'create-secrets-'));
  try {
    const fake = join(dir, 'kubectl');
    // get secret <name>: exit 0 for EXISTING names; create secret generic: record; apply -f: record.
    writeFileSync(fake, `#!${process.execPath}
const fs = require('node:fs');
const args = process.argv.slice(2);
const log = (entry) => fs.appendFileSync(${JSON.stringify(join(dir, 'log.jsonl'))}, JSON.stringify(entry) + '\\n');
const i = args.indexOf('secret');
if (args.includes('get')) process.exit(${JSON.stringify(existing)}.includes(args[i + 1]) ? 0 : 1);
if (args.includes('apply')) { const f = args[args.indexOf('-f') + 1]; log({ apply: f, content: fs.readFileSync(f, 'utf8') }); process.exit(0); }
if (args.includes('create') && args[i + 1] === 'generic') {
  const data = {};
  for (const a of args) {
    let m = /^--from-literal=([^=]+)=(.*)$/s.exec(a);
    if (m) data[m[1]] = m[2];
    m = /^--from-file=([^=]+)=(.*)$/.exec(a);
    if (m) data[m[1]] = fs.readFileSync(m[2], 'utf8');
  }
  log({ namespace: args[args.indexOf('-n') + 1], name: args[i + 2], data });
  process.exit(0);
}
process.exit(2);
`);
    chmodSync(fake, 0o755);
    const result = spawnSync('sh', [script], { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '', KUBECTL: fake, ...env } });
    let lines: { name?: string; namespace?: string; data?: Record<string, string>; apply?: string; content?: string }[] = [];
    try {
      lines = readFileSync(join(dir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as (typeof lines)[number]);
    } catch {
      // nothing logged
    }
    const created = new Map<string, Record<string, string>>();
    for (const l of lines) {
      if (l.name) {
        assert.equal(l.namespace, env['NAMESPACE'] ?? 'ecommerce');
        created.set(l.name, l.data ?? {});
      }
    }
    return { status: result.status, output: result.stdout + result.stderr, created, applied: lines.flatMap((l) => (l.content !== undefined ? [l.content] : [])) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const openssl = spawnSync('openssl', ['version']).status === 0;

test('create-secrets.sh creates every Secret and key the production overlay reads, with fresh random values', { skip: openssl ? false : 'openssl is not installed' }, () => {
  const first = runScript({ ADMIN_EMAIL: 'ops@example.com' });
  assert.equal(first.status, 0, first.output);
  assert.deepEqual(first.applied.map(parseYaml), [[namespaceObject('ecommerce')]], 'the namespace (only) is created first');
  const want = needed();
  assert.ok(want.size >= 8, [...want.keys()].join());
  assert.deepEqual([...first.created.keys()].sort(), [...want.keys()].sort());
  for (const [name, keys] of want) {
    for (const key of keys) assert.ok(first.created.get(name)?.[key], `${name} lacks ${key}`);
  }
  const s = (name: string): Record<string, string> => first.created.get(name) ?? {};
  // Passwords are long random values (hex: easy to paste into a shell).
  for (const [name, key] of [['postgres-superuser', 'password'], ['user-service-db', 'password'], ['postgres-exporter-db', 'password'], ['user-service-admin', 'password'], ['order-service-client', 'client-secret'], ['grafana-admin', 'password']] as const) {
    assert.match(s(name)[key] ?? '', /^[0-9a-f]{48}$/, `${name}.${key}`);
  }
  assert.equal(new Set(['user', 'product', 'order', 'exporter'].map((x) => s(x === 'exporter' ? 'postgres-exporter-db' : `${x}-service-db`)['password'])).size, 4, 'one password per role');
  // The exporter's Secret has the services' layout, on the server the services use.
  const server = (name: string): Record<string, string> => Object.fromEntries(Object.entries(s(name)).filter(([k]) => k !== 'username' && k !== 'password'));
  assert.deepEqual(server('postgres-exporter-db'), server('order-service-db'));
  assert.equal(s('postgres-exporter-db')['username'], 'postgres_exporter');
  assert.equal(s('user-service-admin')['email'], 'ops@example.com');
  assert.equal(createPrivateKey(s('user-service-jwt')['private-key.pem'] ?? '').asymmetricKeyType, 'ed25519');
  // Never the development values.
  const dev = readFileSync(join(k8sDir, 'overlays/dev/secrets.yaml'), 'utf8');
  for (const data of first.created.values()) {
    for (const value of Object.values(data)) if (value.length >= 24) assert.ok(!dev.includes(value.trim()), 'a development value leaked');
  }
  // Fresh per run.
  const second = runScript({ ADMIN_EMAIL: 'ops@example.com' });
  assert.notEqual(second.created.get('postgres-superuser')?.['password'], s('postgres-superuser')['password']);
});

/** The base's Namespace (its Pod Security labels), named `name`. */
function namespaceObject(name: string): K8sObject {
  const object = parseYaml(readFileSync(join(k8sDir, 'base/namespace.yaml'), 'utf8')).find((o) => (o as K8sObject).kind === 'Namespace') as K8sObject;
  return { ...object, metadata: { ...object.metadata, name } };
}

test('create-secrets.sh with NAMESPACE=shop creates the namespace shop (Pod Security labels and all) and puts every Secret in it; refuses a name that is no DNS label', { skip: openssl ? false : 'openssl is not installed' }, () => {
  // Before: it applied base/namespace.yaml as it is (namespace ecommerce and a ConfigMap in it),
  // so `kubectl -n shop create secret` had no namespace shop to go to.
  const run = runScript({ ADMIN_EMAIL: 'ops@example.com', NAMESPACE: 'shop' });
  assert.equal(run.status, 0, run.output);
  assert.deepEqual(run.applied.map(parseYaml), [[namespaceObject('shop')]]);
  assert.ok(run.created.size >= 8);
  for (const bad of ['Shop', 'shop;rm', '-shop', 'a b']) {
    const refused = runScript({ ADMIN_EMAIL: 'ops@example.com', NAMESPACE: bad });
    assert.notEqual(refused.status, 0, bad);
    assert.equal(refused.applied.length + refused.created.size, 0, bad);
  }
});

test('create-secrets.sh leaves existing Secrets alone, honours DB_HOST, and refuses to run without ADMIN_EMAIL', { skip: openssl ? false : 'openssl is not installed' }, () => {
  const run = runScript({ ADMIN_EMAIL: 'ops@example.com', DB_HOST: 'db.internal.example', DB_SSLMODE: 'verify-full' }, ['user-service-jwt', 'postgres-superuser']);
  assert.equal(run.status, 0, run.output);
  assert.ok(!run.created.has('user-service-jwt') && !run.created.has('postgres-superuser'));
  assert.match(run.output, /secret\/user-service-jwt exists: left as it is/);
  assert.equal(run.created.get('order-service-db')?.['host'], 'db.internal.example');
  // The services, their wait-for-database and the exporter: the same server and TLS mode.
  for (const name of ['user-service-db', 'product-service-db', 'order-service-db', 'postgres-exporter-db']) {
    assert.equal(run.created.get(name)?.['host'], 'db.internal.example', name);
    assert.equal(run.created.get(name)?.['sslmode'], 'verify-full', name);
  }
  const refused = runScript({});
  assert.notEqual(refused.status, 0);
  assert.match(refused.output, /ADMIN_EMAIL/);
  assert.equal(refused.created.size, 0);
});

test('the External Secrets example covers every Secret and key the production overlay reads', () => {
  const docs = parseYaml(readFileSync(join(k8sDir, 'overlays/production/external-secrets.example.yaml'), 'utf8')) as {
    kind: string; spec: { target: { name: string }; data: { secretKey: string }[] };
  }[];
  const covered = new Map(docs.filter((d) => d.kind === 'ExternalSecret').map((d) => [d.spec.target.name, new Set(d.spec.data.map((x) => x.secretKey))]));
  for (const [name, keys] of needed()) {
    for (const key of keys) assert.ok(covered.get(name)?.has(key), `ExternalSecret for ${name} lacks ${key}`);
  }
});

// The ExternalSecret CRD (external-secrets/external-secrets, config/crds/bases/external-secrets.io_externalsecrets.yaml)
// serves v1 since v0.16.0 and has `served: false` on v1beta1 since v0.17.0: a v1beta1 object is refused by the API
// server of any cluster running a current operator ("no matches for kind ExternalSecret in version .../v1beta1").
// The fields below are those of the v1 schema that the example may use (kubectl apply validates strictly).
const EXTERNAL_SECRET_V1_FIELDS: Record<string, readonly string[]> = {
  spec: ['refreshInterval', 'refreshPolicy', 'secretStoreRef', 'target', 'data', 'dataFrom'],
  'spec.secretStoreRef': ['kind', 'name'],
  'spec.target': ['name', 'creationPolicy', 'deletionPolicy', 'immutable', 'template'],
  'spec.data[]': ['secretKey', 'remoteRef', 'sourceRef'],
  'spec.data[].remoteRef': ['key', 'property', 'version', 'conversionStrategy', 'decodingStrategy', 'metadataPolicy'],
};

test('the External Secrets example is written in the API version the operator serves (external-secrets.io/v1), with v1 fields only', () => {
  const docs = parseYaml(readFileSync(join(k8sDir, 'overlays/production/external-secrets.example.yaml'), 'utf8')) as K8sObject[];
  const externalSecrets = docs.filter((d) => d.kind === 'ExternalSecret');
  assert.ok(externalSecrets.length > 0);
  for (const d of externalSecrets) {
    const name = d.metadata.name;
    assert.equal(d.apiVersion, 'external-secrets.io/v1', `${name}: external-secrets.io/v1beta1 is not served by the operator since v0.17.0`);
    const spec = d['spec'] as Record<string, unknown> & { secretStoreRef: object; target: object; data: { remoteRef: object }[] };
    const check = (path: string, value: object) => {
      for (const key of Object.keys(value)) assert.ok(EXTERNAL_SECRET_V1_FIELDS[path]?.includes(key), `${name}: ${path}.${key} is not a field of ExternalSecret v1`);
    };
    check('spec', spec);
    check('spec.secretStoreRef', spec.secretStoreRef);
    check('spec.target', spec.target);
    for (const item of spec.data) {
      check('spec.data[]', item);
      check('spec.data[].remoteRef', item.remoteRef);
    }
  }
});

test('the production overlay serves every ingress host over TLS with a cert-manager certificate', () => {
  const [ingress] = renderKustomization(productionOverlay).filter((o) => o.kind === 'Ingress');
  assert.ok(ingress);
  const spec = ingress['spec'] as { rules: { host: string }[]; tls?: { hosts: string[]; secretName: string }[] };
  const tlsHosts = new Set((spec.tls ?? []).flatMap((t) => t.hosts));
  for (const rule of spec.rules) assert.ok(tlsHosts.has(rule.host), `${rule.host} has no TLS`);
  assert.ok((spec.tls ?? []).every((t) => t.secretName));
  assert.ok(ingress.metadata.annotations?.['cert-manager.io/cluster-issuer']);
  assert.notEqual(spec.rules[0]?.host, 'ecommerce.local');
});

test('each service connects with the sslmode of its Secret, read as libpq reads it (disable: no TLS; verify-full: TLS, verified)', async () => {
  const { parse } = (await import('pg-connection-string')) as unknown as { parse: (url: string) => { ssl?: unknown; host?: string } };
  const dev = renderKustomization(join(k8sDir, 'overlays/dev'));
  for (const svc of ['user', 'product', 'order']) {
    const deployment = dev.find((o) => o.kind === 'Deployment' && o.metadata.name === `${svc}-service`)!;
    const spec = podTemplate(deployment)!.spec;
    const secret = dataOf(dev.find((o) => o.kind === 'Secret' && o.metadata.name === `${svc}-service-db`)!);
    // Kubernetes' $(VAR) expansion, from the variables defined above.
    const env: Record<string, string> = {};
    for (const e of spec.containers[0]!.env ?? []) {
      const ref = e.valueFrom?.secretKeyRef;
      env[e.name] = ref ? (ref.name === `${svc}-service-db` ? (secret[ref.key] ?? '') : 'x') : (e.value ?? '').replace(/\$\(([A-Z0-9_]+)\)/g, (_, n: string) => env[n] ?? `$(${n})`);
    }
    assert.doesNotMatch(env['DATABASE_URL'] ?? '', /\$\(/, `${svc}: a variable left unexpanded`);
    assert.equal(secret['sslmode'], 'disable');
    assert.equal(parse(env['DATABASE_URL']!).ssl, false, `${svc}: the in-cluster server has no TLS`);
    assert.deepEqual(parse(env['DATABASE_URL']!.replace('sslmode=disable', 'sslmode=verify-full')).ssl, {}, `${svc}: verify-full verifies (rejectUnauthorized stays on)`);
    const init = spec.initContainers?.find((c) => c.name === 'wait-for-database');
    assert.deepEqual(init?.env?.find((e) => e.name === 'PGSSLMODE')?.valueFrom?.secretKeyRef, { name: `${svc}-service-db`, key: 'sslmode' });
  }
});

test('external-database.yaml (for a managed PostgreSQL) is a valid NetworkPolicy that lets exactly the database clients out, on 5432 only', () => {
  const file = readFileSync(join(k8sDir, 'overlays/production/external-database.yaml'), 'utf8');
  const [policy] = parseYaml(file) as K8sObject[];
  validateObject(policy!);
  const spec = policy!['spec'] as {
    podSelector: { matchExpressions: { key: string; operator: string; values: string[] }[] };
    policyTypes: string[];
    egress: { to: { ipBlock?: { cidr: string } }[]; ports: { protocol: string; port: number }[] }[];
  };
  assert.deepEqual(spec.policyTypes, ['Egress']);
  // The port the services are given for their database (each <service>-db Secret's `port`, 5432).
  const dbSecret = renderKustomization(join(k8sDir, 'overlays/dev')).find((o) => o.kind === 'Secret' && o.metadata.name === 'user-service-db')!;
  const dbPort = Number(dataOf(dbSecret)['port']);
  assert.equal(dbPort, 5432);
  for (const rule of spec.egress) {
    assert.deepEqual(rule.ports, [{ protocol: 'TCP', port: dbPort }]);
    assert.ok(rule.to.every((t) => t.ipBlock && t.ipBlock.cidr !== '0.0.0.0/0'), 'address ranges only, never everything');
  }
  // The pods that open connections to the database: a container reads a <service>-db host or the exporter's DSN.
  const clients = renderKustomization(productionOverlay)
    .filter((o) => o.kind === 'Deployment' && podTemplate(o))
    .filter((o) => podTemplate(o)!.spec.containers.some((c) => (c.env ?? []).some((e) => e.name === 'DATABASE_URL' || e.name === 'DATA_SOURCE_URI')))
    .map((o) => podTemplate(o)!.metadata?.labels?.['app.kubernetes.io/name'])
    .sort();
  const [selector] = spec.podSelector.matchExpressions;
  assert.equal(selector?.key, 'app.kubernetes.io/name');
  assert.equal(selector?.operator, 'In');
  assert.deepEqual([...(selector?.values ?? [])].sort(), clients);
  assert.ok(clients.length === 4, clients.join());
  // Offered in the overlay, off until the user points the Secrets at a managed server.
  assert.match(readFileSync(join(k8sDir, 'overlays/production/kustomization.yaml'), 'utf8'), /#\s*- external-database\.yaml/);
});

// PostgreSQL's image reads POSTGRES_PASSWORD (the postgres-superuser Secret) only when it initialises its volume,
// and the provisioning Job logs in with the Secret's password: rotated like the other Secrets (delete, re-run the
// script), the Secret and the server disagree and the Job fails until the server has the new password too.
test('docs/deploy.md: rotating postgres-superuser sets the new password in the server, with a command that names the pod and the superuser', () => {
  const doc = readFileSync(join(k8sDir, '../../docs/deploy.md'), 'utf8');
  const rotation = /Rotate one:[\s\S]*?\n\n/.exec(doc)?.[0] ?? '';
  assert.match(rotation, /`postgres-superuser` is the exception/);
  const objects = renderKustomization(productionOverlay);
  const sts = objects.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'postgres');
  assert.ok(sts, 'no StatefulSet postgres');
  const env = podTemplate(sts)?.spec.containers[0]?.env ?? [];
  assert.deepEqual(env.find((e) => e.name === 'POSTGRES_PASSWORD')?.valueFrom?.secretKeyRef, { name: 'postgres-superuser', key: 'password' });
  // The superuser's name: what create-secrets.sh puts in the Secret.
  const user = /create postgres-superuser --from-literal=username=(\w+)/.exec(readFileSync(script, 'utf8'))?.[1];
  assert.ok(user);
  const command = /`(kubectl -n ecommerce exec (\S+) -- psql -U (\S+) -c "ALTER USER (\S+) PASSWORD '[^']+'")`/.exec(rotation);
  assert.ok(command, 'no runnable ALTER USER command in the rotation paragraph');
  assert.equal(command[2], `${sts.metadata.name}-0`, 'the StatefulSet\'s first pod');
  assert.equal(command[3], user);
  assert.equal(command[4], user);
});
