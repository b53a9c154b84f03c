// NetworkPolicy as the API documents it (networking.k8s.io/v1, and the concepts page "Network Policies"): a pod
// that no policy of a direction selects is open in that direction; once one selects it, only what some rule of
// those policies names is allowed, and a connection needs both the sender's egress and the receiver's ingress. A
// peer with only a podSelector means pods of the policy's own namespace; with a namespaceSelector, pods of the
// namespaces it selects (by their labels, `kubernetes.io/metadata.name` among them), and with both, pods the
// podSelector selects IN those namespaces (one peer: AND; the peers of a list: OR). An ipBlock matches addresses
// outside the pod network (an `External` endpoint here: the API server, NodeLocal DNS); it matches no pod (pod IPs
// are ephemeral). A rule's port is a number, a range (port..endPort), or a NAME, resolved against the container
// ports of the destination pod (for an ingress rule: the selected pod's; for an egress rule: the peer's). A pod
// cannot block access to itself.
import { podTemplate, type K8sObject } from './manifests.js';

type Labels = Record<string, string>;
interface Selector {
  matchLabels?: Labels;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}
interface Peer {
  podSelector?: Selector;
  namespaceSelector?: Selector;
  ipBlock?: { cidr: string; except?: string[] };
}
interface Rule {
  to?: Peer[];
  from?: Peer[];
  ports?: { port?: number | string; endPort?: number; protocol?: string }[];
}
export interface PolicySpec {
  podSelector: Selector;
  policyTypes?: ('Ingress' | 'Egress')[];
  ingress?: Rule[];
  egress?: Rule[];
}

/** A container port as a pod declares it. */
interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol?: string;
}

/** A pod: its labels, its namespace's name (namespaces carry `kubernetes.io/metadata.name`) and its container ports. */
export interface PodRef {
  labels: Labels;
  namespace: string;
  ports?: ContainerPort[];
}

/** An address outside the pod network (an IPv4 address). */
export interface External {
  ip: string;
}

type Endpoint = PodRef | External;
const isExternal = (e: Endpoint): e is External => 'ip' in e;

/** The pods of workload `kind`/`name` among `objects` (Deployment unless said). */
export function deploymentPod(objects: K8sObject[], name: string, kind = 'Deployment'): PodRef {
  const workload = objects.find((o) => o.kind === kind && o.metadata.name === name);
  const template = workload && podTemplate(workload);
  if (!workload || !template) throw new Error(`no ${kind}/${name}`);
  const ports = template.spec.containers.flatMap((c) => (c.ports ?? []) as ContainerPort[]);
  return { labels: template.metadata?.labels ?? {}, namespace: workload.metadata.namespace ?? 'ecommerce', ports };
}

function selects(selector: Selector | undefined, labels: Labels): boolean {
  if (!selector) return true;
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpressions = (selector.matchExpressions ?? []).every((e) => {
    switch (e.operator) {
      case 'In': return e.values?.includes(labels[e.key] ?? '\0') ?? false;
      case 'NotIn': return !(e.values?.includes(labels[e.key] ?? '\0') ?? false);
      case 'Exists': return e.key in labels;
      case 'DoesNotExist': return !(e.key in labels);
    }
  });
  return byLabels && byExpressions;
}

function ipv4(address: string): number {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`not an IPv4 address: ${address}`);
  return parts.reduce((n, p) => n * 256 + p, 0);
}

function inCidr(ip: string, cidr: string): boolean {
  const [base = '', bits = '32'] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  return Math.floor(ipv4(ip) / size) === Math.floor(ipv4(base) / size);
}

function peerMatches(peer: Peer, endpoint: Endpoint, policyNamespace: string): boolean {
  if (isExternal(endpoint)) return peer.ipBlock !== undefined && inCidr(endpoint.ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((c) => inCidr(endpoint.ip, c));
  if (peer.ipBlock) return false;
  const namespaceOk = peer.namespaceSelector ? selects(peer.namespaceSelector, { 'kubernetes.io/metadata.name': endpoint.namespace }) : endpoint.namespace === policyNamespace;
  return namespaceOk && selects(peer.podSelector, endpoint.labels);
}

/** Whether a rule's ports admit `port`/`protocol` on `destination` (a named port: one of the destination pod's). */
function portMatches(ports: Rule['ports'], port: number, protocol: string, destination: Endpoint): boolean {
  if (ports === undefined || ports.length === 0) return true;
  return ports.some((p) => {
    if ((p.protocol ?? 'TCP') !== protocol) return false;
    if (p.port === undefined) return true;
    if (typeof p.port === 'string') {
      if (isExternal(destination)) return false;
      return (destination.ports ?? []).some((c) => c.name === p.port && c.containerPort === port && (c.protocol ?? 'TCP') === protocol);
    }
    return p.endPort === undefined ? p.port === port : p.port <= port && port <= p.endPort;
  });
}

/**
 * Whether `from` may open a connection to `to` on `port` (TCP unless said), under the NetworkPolicies among
 * `objects` (of any namespace). The same PodRef object on both sides is a pod connecting to itself.
 */
export function admits(objects: K8sObject[], from: PodRef, to: Endpoint, port: number, protocol = 'TCP'): boolean {
  if (from === to) return true;
  const policies = objects.filter((o) => o.kind === 'NetworkPolicy').map((o) => ({ namespace: o.metadata.namespace ?? '', spec: o['spec'] as PolicySpec }));
  const side = (pod: Endpoint, type: 'Ingress' | 'Egress', other: Endpoint): boolean => {
    if (isExternal(pod)) return true;
    // policyTypes, when absent: Ingress, plus Egress if the policy has egress rules (NetworkPolicySpec).
    const types = (spec: PolicySpec): string[] => spec.policyTypes ?? ['Ingress', ...(spec.egress ? ['Egress'] : [])];
    const mine = policies.filter((p) => p.namespace === pod.namespace && types(p.spec).includes(type) && selects(p.spec.podSelector, pod.labels));
    if (mine.length === 0) return true;
    return mine.some(({ namespace, spec }) => ((type === 'Egress' ? spec.egress : spec.ingress) ?? []).some((rule) => {
      const peers = type === 'Egress' ? rule.to : rule.from;
      const peerOk = peers === undefined || peers.length === 0 || peers.some((p) => peerMatches(p, other, namespace));
      return peerOk && portMatches(rule.ports, port, protocol, to);
    }));
  };
  return side(from, 'Egress', to) && side(to, 'Ingress', from);
}
