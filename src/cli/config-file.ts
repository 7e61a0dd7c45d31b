import { readFileSync } from 'node:fs';
import { readDeployConfig } from '../deploy/settings.ts';
import type { HerdConfig } from '../model/config.ts';
import { oneLine, UserError } from './output.ts';

/**
 * Reads and validates a herd config file (JSON), or explains in one line exactly what is wrong
 * with it. The file's `deploy` section (the settings of `herd deploy`) is validated too, by the
 * same code as `herd deploy` uses, so that every command accepts and rejects the same files.
 */
export function readConfigFile(path: string): HerdConfig {
  try {
    return readDeployConfig(path).config;
  } catch (err) {
    throw new UserError(oneLine((err as Error).message));
  }
}

/** Reads a text file a command needs, with a one-line error naming it. */
export function readTextFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}
