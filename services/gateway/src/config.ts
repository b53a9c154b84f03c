import { BaseEnv, ConfigError, Port, Type, Url, loadConfig, proxyTrust, type Static } from '@ecommerce/kit';

export const GatewayEnv = {
  ...BaseEnv,
  PORT: Port(8080),
  GATEWAY_PORT: Type.Optional(Port(8080)),
  /** The gateway's own /metrics, off the public port (like the ingress controller's metrics port). */
  METRICS_PORT: Port(9464),
  USER_SERVICE_URL: Url('http://127.0.0.1:3001'),
  PRODUCT_SERVICE_URL: Url('http://127.0.0.1:3002'),
  ORDER_SERVICE_URL: Url('http://127.0.0.1:3003'),
  UPSTREAM_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 120_000, default: 10_000 }),
  /** Bytes the request bodies being received at one time may hold (each is read whole before it goes upstream). */
  BUFFERED_BODIES_MAX_BYTES: Type.Integer({ minimum: 1024 * 1024, default: 64 * 1024 * 1024 }),
  /** A proxy in front of the gateway whose X-Forwarded-For is believed (see proxyTrust); none: the gateway is the edge. */
  TRUST_PROXY: Type.String({ default: 'none' }),
  /** The built storefront (web/dist/app) served at `/`; empty means the repository's own build. */
  STOREFRONT_DIR: Type.String({ default: '' }),
};
export type GatewayConfig = Static<ReturnType<typeof Type.Object<typeof GatewayEnv>>>;

export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const cfg = loadConfig(GatewayEnv, env);
  // As the user service's: a TRUST_PROXY that is no list of addresses stopped the start with a stack trace, not this line.
  try {
    proxyTrust(cfg.TRUST_PROXY);
  } catch (err) {
    throw new ConfigError([(err as Error).message]);
  }
  // GATEWAY_PORT is the name README and docs/api.md use; PORT is what containers set.
  if (env.GATEWAY_PORT) cfg.PORT = cfg.GATEWAY_PORT ?? cfg.PORT;
  return cfg;
}

/** The storefront Deployment's static-only server (storefront-main.ts): the storefront's variables without the gateway's upstreams. */
export const StorefrontEnv = { ...BaseEnv, PORT: Port(8080), STOREFRONT_DIR: GatewayEnv.STOREFRONT_DIR };
