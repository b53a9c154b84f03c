import { isIPv4, isIPv6 } from 'node:net';

/**
 * The address of `a.b.c.d:port` or `[IPv6]:port`: some load balancers (Azure Application Gateway) report the client in
 * X-Forwarded-For with the port of its connection, and the proxy hop's entry is taken as written (proxy-trust.ts), so
 * each new connection of one client was an address of its own, with budgets and failed logins of its own.
 */
function withoutPort(address: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (bracketed && isIPv6(bracketed[1]!.split('%')[0]!)) return bracketed[1]!;
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(address);
  return v4 && isIPv4(v4[1]!) ? v4[1]! : address;
}

/**
 * The address a client's budgets and failed logins are counted under. An IPv6 client counts by its /64 (written as
 * its network address, e.g. `2001:db8:1:2::`): that is the block one host or home network is given, so counted per
 * address one machine had 2^64 budgets of guesses against an account. An IPv4 address counts as it is, also when
 * written IPv4-mapped (`::ffff:192.0.2.1`, a dual-stack socket's form); either one with a port reported beside it
 * (withoutPort) counts without it; anything else is taken as written.
 */
export function countedAddress(reported: string): string {
  const address = withoutPort(reported);
  const plain = address.split('%')[0]!;
  if (!isIPv6(plain)) return address;
  const groups = groupsOf(plain);
  if (groups.slice(0, 6).join(':') === '0:0:0:0:0:ffff') {
    const [high, low] = groups.slice(6).map((g) => parseInt(g, 16)) as [number, number];
    return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
  }
  return `${groups.slice(0, 4).join(':')}::`;
}

/** The eight groups of a valid IPv6 address in lower-case hex without leading zeros (`::` and a dotted tail expanded). */
function groupsOf(address: string): string[] {
  let text = address;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const before = head === '' ? [] : head.split(':');
  const after = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : Array<string>(8 - before.length - after.length).fill('0');
  return [...before, ...zeros, ...after].map((g) => parseInt(g, 16).toString(16));
}
