import { readFileSync } from 'node:fs';
import { type HerdConfig, parseConfig } from '../model/config.ts';
import { UserError } from './output.ts';

/** Reads and validates a herd config file (JSON), or explains exactly what is wrong with it. */
export function readConfigFile(path: string): HerdConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read config ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UserError(`config ${path} is not valid JSON: ${(err as Error).message}`);
  }
  // `herd deploy` keeps its own settings in a `deploy` section of the same file.
  if (typeof json === 'object' && json !== null && !Array.isArray(json) && 'deploy' in json) {
    const { deploy: _deploy, ...herd } = json as Record<string, unknown>;
    json = herd;
  }
  const parsed = parseConfig(json);
  if (!parsed.ok) throw new UserError(`config ${path} is invalid:\n  - ${parsed.problems.join('\n  - ')}`);
  return parsed.config;
}

/** Reads a text file a command needs, with a one-line error naming it. */
export function readTextFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}
