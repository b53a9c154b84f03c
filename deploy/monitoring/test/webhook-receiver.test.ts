import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { exporterDsn } from '../src/stack.js';
import { startWebhookReceiver, type WebhookReceiver } from '../src/webhook-receiver.js';

describe('webhook receiver', () => {
  let receiver: WebhookReceiver;
  const lines: string[] = [];
  before(async () => {
    receiver = await startWebhookReceiver({ port: 0, log: (line) => lines.push(line) });
  });
  after(async () => receiver.close());

  test('when Alertmanager posts a notification, then GET lists it and the console shows it', async () => {
    const payload = {
      version: '4',
      receiver: 'page',
      status: 'firing',
      groupLabels: { alertname: 'ServiceDown', service: 'order' },
      commonLabels: { alertname: 'ServiceDown', service: 'order', severity: 'page' },
      alerts: [
        {
          status: 'firing',
          labels: { alertname: 'ServiceDown', service: 'order', severity: 'page' },
          annotations: { summary: 'order instance 127.0.0.1:3003 is down' },
          startsAt: '2026-01-01T00:00:00Z',
          endsAt: '0001-01-01T00:00:00Z',
        },
      ],
    };
    const post = await fetch(receiver.url, { method: 'POST', body: JSON.stringify(payload) });
    assert.equal(post.status, 200);
    const listed = (await (await fetch(receiver.url)).json()) as Array<{ receiver: string; alerts: Array<{ labels: Record<string, string> }> }>;
    assert.equal(listed.length, 1);
    assert.equal(listed[0]?.receiver, 'page');
    assert.equal(listed[0]?.alerts[0]?.labels.alertname, 'ServiceDown');
    assert.match(lines.join('\n'), /firing\s+ServiceDown service=order severity=page \(receiver page\)/);
  });

  test('when the body is not a webhook payload, then 400 and nothing is stored', async () => {
    await fetch(receiver.url, { method: 'DELETE' });
    const post = await fetch(receiver.url, { method: 'POST', body: '{"hello":1}' });
    assert.equal(post.status, 400);
    assert.deepEqual(receiver.received(), []);
  });
});

describe('postgres_exporter DSN', () => {
  test('local servers get sslmode=disable (lib/pq defaults to require)', () => {
    assert.equal(exporterDsn('postgres://u:p@127.0.0.1:5432/db'), 'postgres://u:p@127.0.0.1:5432/db?sslmode=disable');
    assert.equal(exporterDsn('postgres://u@localhost/db?sslmode=require'), 'postgres://u@localhost/db?sslmode=require');
    assert.equal(exporterDsn('postgres://u@db.example:5432/db'), 'postgres://u@db.example:5432/db');
  });
});
