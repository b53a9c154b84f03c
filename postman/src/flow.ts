// The walk through the public API that the Postman collection is generated from: four folders of steps,
// in run order (flow/*.ts, written with the builders of flow/steps.ts). Requests chain through collection
// variables (tokens, ids, versions, stock counts), so a folder uses what the ones before it captured.
import type { Folder } from './flow-types.js';
import { accounts } from './flow/accounts.js';
import { archive } from './flow/archive.js';
import { catalog } from './flow/catalog.js';
import { orders } from './flow/orders.js';

export const FLOW: readonly Folder[] = [accounts, catalog, orders, archive];
