import { BlockList, isIP } from 'node:net';

/** Fastify's `trustProxy` as a function: may `address`, `hop` steps from this server, forward a client address? */
export type ProxyTrust = (address: string, hop: number) => boolean;

const NAMED: Record<string, string[]> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

/** `::ffff:10.0.0.1` (an IPv4 peer of a dual-stack socket) is the IPv4 address. */
function plain(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m?.[1] ?? address;
}

/**
 * TRUST_PROXY: the addresses of this server's own proxy (comma-separated IPs, CIDRs or the names
 * loopback, linklocal, uniquelocal); empty or `none` trusts nobody. Only the hop that connected to
 * us is believed, so `request.ip` is the last X-Forwarded-For entry that proxy wrote, never an
 * address a client put further left in the chain (that would let a client pick its own address).
 */
export function proxyTrust(setting: string): ProxyTrust | false {
  const entries = setting.split(',').map((s) => s.trim()).filter((s) => s !== '' && s.toLowerCase() !== 'none');
  if (entries.length === 0) return false;
  const list = new BlockList();
  for (const entry of entries) {
    for (const range of NAMED[entry.toLowerCase()] ?? [entry]) {
      const [ip = '', bits] = range.split('/');
      const family = isIP(ip);
      if (family === 0) throw new Error(`TRUST_PROXY: ${JSON.stringify(entry)} is not an IP address, a CIDR range or one of ${Object.keys(NAMED).join(', ')}`);
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (bits === undefined) list.addAddress(ip, type);
      else {
        const prefix = Number(bits);
        if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128)) throw new Error(`TRUST_PROXY: bad prefix length in ${JSON.stringify(entry)}`);
        list.addSubnet(ip, prefix, type);
      }
    }
  }
  return (address, hop) => {
    if (hop !== 0) return false;
    const a = plain(address);
    const family = isIP(a);
    return family !== 0 && list.check(a, family === 4 ? 'ipv4' : 'ipv6');
  };
}
