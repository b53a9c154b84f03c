// The part of newman's programmatic API this workspace uses (the package ships no types).
declare module 'newman' {
  import type { EventEmitter } from 'node:events';

  export interface Stat {
    total: number;
    pending: number;
    failed: number;
  }
  export interface RunFailure {
    error: { name: string; message: string; test?: string };
    at?: string;
    source?: { name?: string };
  }
  export interface Execution {
    item: { name: string };
    request?: { method: string; url: { toString(): string } };
    response?: { code: number; responseTime: number };
    assertions?: { assertion: string; error?: { message: string } }[];
  }
  export interface Summary {
    run: {
      stats: Record<'iterations' | 'items' | 'scripts' | 'prerequests' | 'requests' | 'tests' | 'assertions' | 'testScripts' | 'prerequestScripts', Stat>;
      timings: { started: number; completed: number; responseAverage: number };
      failures: RunFailure[];
      executions: Execution[];
      error?: Error;
    };
  }
  export interface RunOptions {
    collection: string | object;
    environment?: string | object;
    envVar?: { key: string; value: string }[];
    reporters?: string | string[];
    reporter?: Record<string, object>;
    timeout?: number;
    timeoutRequest?: number;
    timeoutScript?: number;
    bail?: boolean;
  }
  const newman: { run(options: RunOptions, callback: (err: Error | null, summary: Summary) => void): EventEmitter };
  export default newman;
}
