import { readFileSync } from 'node:fs';
import { ConfigError } from '@ecommerce/kit';

/**
 * A setting given inline (`NAME`) or as a file (`NAME_FILE`, a mounted Secret): its text, the inline one first, or
 * undefined when neither is set. A file that cannot be read fails the start naming the variable, not with a bare
 * ENOENT (SERVICE_CLIENTS_FILE did).
 */
export function settingText(name: string, inline: string | undefined, file: string | undefined): string | undefined {
  if (inline || !file) return inline || undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`${name}_FILE: cannot read ${file} (${(err as Error).message})`]);
  }
}
