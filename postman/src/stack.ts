// Typed access to scripts/stack.js (plain ESM JavaScript, shared with `npm start` and the bench).
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from './paths.js';

export interface RunningStack {
  readonly urls: { readonly user: string; readonly product: string; readonly order: string; readonly gateway: string };
  readonly admin: { readonly email: string; readonly password: string };
  readonly orderClient: { readonly id: string; readonly secret: string };
  readonly adminUrl: string;
  readonly database: string;
  stop(): Promise<void>;
}

export interface StackOptions {
  readonly env: NodeJS.ProcessEnv;
  readonly dataDir: string;
  /** Every port picked free (else the *_PORT variables; a taken one fails the start). */
  readonly freePorts?: boolean;
  readonly onCrash?: (service: string, code: number | null, signal: string | null, tail: string[]) => void;
}

interface StackModule {
  startStack(opts: StackOptions): Promise<RunningStack>;
}

export async function startStack(opts: StackOptions): Promise<RunningStack> {
  const mod = (await import(pathToFileURL(path.join(repoRoot, 'scripts', 'stack.js')).href)) as StackModule;
  return mod.startStack(opts);
}
