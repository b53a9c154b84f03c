import { fileURLToPath } from 'node:url';
import path from 'node:path';

// Compiled to deploy/monitoring/dist/src/paths.js: two levels up is the
// workspace root, where the YAML and JSON this package ships live.
export const monitoringDir = fileURLToPath(new URL('../../', import.meta.url));
export const repoRoot = path.resolve(monitoringDir, '..', '..');

export const rulesDir = path.join(monitoringDir, 'rules');
export const ruleTestsDir = path.join(rulesDir, 'tests');
export const prometheusConfigPath = path.join(monitoringDir, 'prometheus', 'prometheus.yml');
export const prometheusK8sConfigPath = path.join(monitoringDir, 'prometheus', 'prometheus-k8s.yml');
export const prometheusComposeConfigPath = path.join(monitoringDir, 'prometheus', 'prometheus-compose.yml');
export const alertmanagerConfigPath = path.join(monitoringDir, 'alertmanager', 'alertmanager.yml');
export const postgresQueriesPath = path.join(monitoringDir, 'postgres', 'queries.yml');
export const dashboardsDir = path.join(monitoringDir, 'grafana', 'dashboards');
export const defaultOverlayDir = path.join(monitoringDir, 'test', 'overlay');
