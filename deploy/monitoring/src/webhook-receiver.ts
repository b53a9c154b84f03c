// A minimal Alertmanager webhook receiver: logs every notification and keeps
// them in memory, so a person (console) and a test (GET /alerts) can both see
// what Alertmanager delivered.
//   POST   /alerts  Alertmanager webhook payload (version 4)
//   GET    /alerts  every notification received so far, oldest first
//   DELETE /alerts  forget them (between test steps)
import { appendFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

export interface WebhookAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  fingerprint?: string;
  /** The rule's page in Prometheus (its --web.external-url). */
  generatorURL?: string;
}

export interface WebhookNotification {
  receiver: string;
  status: 'firing' | 'resolved';
  alerts: WebhookAlert[];
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  /** Alertmanager's own address (its --web.external-url), which its links start with. */
  externalURL?: string;
  /** Added by this receiver: when the notification arrived (ISO time). */
  receivedAt: string;
}

export interface WebhookReceiver {
  readonly url: string;
  received(): readonly WebhookNotification[];
  close(): Promise<void>;
}

export interface WebhookOptions {
  readonly port: number;
  /** Appends one JSON line per notification when set. */
  readonly logFile?: string;
  readonly log?: (line: string) => void;
}

const MAX_BODY = 1024 * 1024;

async function readBody(request: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of request) {
    body += String(chunk);
    if (body.length > MAX_BODY) throw new Error('body too large');
  }
  return body;
}

function isNotification(value: unknown): value is Omit<WebhookNotification, 'receivedAt'> {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.receiver === 'string' && typeof v.status === 'string' && Array.isArray(v.alerts);
}

export async function startWebhookReceiver(options: WebhookOptions): Promise<WebhookReceiver> {
  const notifications: WebhookNotification[] = [];
  const log = options.log ?? ((line: string) => console.log(line));

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = (request.url ?? '/').split('?')[0];
    if (path !== '/alerts') {
      response.writeHead(404).end();
      return;
    }
    if (request.method === 'GET') {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(notifications));
      return;
    }
    if (request.method === 'DELETE') {
      notifications.length = 0;
      response.writeHead(204).end();
      return;
    }
    if (request.method !== 'POST') {
      response.writeHead(405, { allow: 'GET, POST, DELETE' }).end();
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readBody(request));
    } catch {
      response.writeHead(400).end('invalid JSON');
      return;
    }
    if (!isNotification(parsed)) {
      response.writeHead(400).end('not an Alertmanager webhook payload');
      return;
    }
    const notification: WebhookNotification = {
      receiver: parsed.receiver,
      status: parsed.status,
      alerts: parsed.alerts,
      groupLabels: parsed.groupLabels ?? {},
      commonLabels: parsed.commonLabels ?? {},
      ...(typeof parsed.externalURL === 'string' ? { externalURL: parsed.externalURL } : {}),
      receivedAt: new Date().toISOString(),
    };
    notifications.push(notification);
    for (const alert of notification.alerts) {
      const labels = Object.entries(alert.labels)
        .filter(([k]) => k !== 'alertname')
        .map(([k, v]) => `${k}=${v}`)
        .join(' ');
      log(`[webhook] ${notification.receivedAt} ${alert.status.padEnd(8)} ${alert.labels.alertname ?? '?'} ${labels} (receiver ${notification.receiver})`);
    }
    if (options.logFile) await appendFile(options.logFile, `${JSON.stringify(notification)}\n`);
    response.writeHead(200).end();
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      log(`[webhook] error: ${String(error)}`);
      if (!response.headersSent) response.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    url: `http://127.0.0.1:${port}/alerts`,
    received: () => notifications,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
