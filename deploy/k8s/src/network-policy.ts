// NetworkPolicy as the API documents it (networking.k8s.io/v1): a pod that no policy of a direction selects is
// open in that direction; once one selects it, only what some rule of those policies names is allowed, and a
// connection needs both the sender's egress and the receiver's ingress. A peer with only a podSelector means
// pods of the policy's own namespace; with a namespaceSelector, pods of the namespaces it selects (by their
// labels, `kubernetes.io/metadata.name` among them); an ipBlock matches no pod here (pods have no fixed IPs).
// Policies are taken from the objects given, all in one namespace: the one our manifests use.
import { podTemplate, type K8sObject } from './manifests.js';

type Labels = Record<string, string>;
interface Selector {
  matchLabels?: Labels;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}
interface Peer {
  podSelector?: Selector;
  namespaceSelector?: Selector;
  ipBlock?: object;
}
interface Rule {
  to?: Peer[];
  from?: Peer[];
  ports?: { port?: number | string; protocol?: string }[];
}
export interface PolicySpec {
  podSelector: Selector;
  policyTypes: ('Ingress' | 'Egress')[];
  ingress?: Rule[];
  egress?: Rule[];
}

/** A pod: its labels and its namespace's name (namespaces carry `kubernetes.io/metadata.name`). */
export interface PodRef {
  labels: Labels;
  namespace: string;
}

/** The pods of Deployment `name` among `objects` (all in the one namespace, ecommerce). */
export function deploymentPod(objects: K8sObject[], name: string): PodRef {
  const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === name);
  if (!deployment) throw new Error(`no Deployment/${name}`);
  return { labels: podTemplate(deployment)?.metadata?.labels ?? {}, namespace: deployment.metadata.namespace ?? 'ecommerce' };
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

function peerMatches(peer: Peer, pod: PodRef, policyNamespace: string): boolean {
  if (peer.ipBlock) return false;
  const namespaceOk = peer.namespaceSelector ? selects(peer.namespaceSelector, { 'kubernetes.io/metadata.name': pod.namespace }) : pod.namespace === policyNamespace;
  return namespaceOk && selects(peer.podSelector, pod.labels);
}

/** Whether `from` may open a connection to `to` on `port` (TCP unless said), under the policies among `objects`. */
export function admits(objects: K8sObject[], from: PodRef, to: PodRef, port: number, protocol = 'TCP'): boolean {
  const policies = objects.filter((o) => o.kind === 'NetworkPolicy').map((o) => ({ namespace: o.metadata.namespace ?? '', spec: o['spec'] as PolicySpec }));
  const side = (pod: PodRef, type: 'Ingress' | 'Egress', other: PodRef): boolean => {
    const mine = policies.filter((p) => p.namespace === pod.namespace && p.spec.policyTypes.includes(type) && selects(p.spec.podSelector, pod.labels));
    if (mine.length === 0) return true;
    return mine.some(({ namespace, spec }) => ((type === 'Egress' ? spec.egress : spec.ingress) ?? []).some((rule) => {
      const peers = type === 'Egress' ? rule.to : rule.from;
      const peerOk = peers === undefined || peers.length === 0 || peers.some((p) => peerMatches(p, other, namespace));
      const portOk = rule.ports === undefined || rule.ports.length === 0 || rule.ports.some((p) => (p.protocol ?? 'TCP') === protocol && (p.port === undefined || p.port === port));
      return peerOk && portOk;
    }));
  };
  return side(from, 'Egress', to) && side(to, 'Ingress', from);
}
