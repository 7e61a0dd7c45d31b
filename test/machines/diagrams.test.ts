/** The checked-in state diagrams are exactly what the machine definitions generate. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderDiagrams } from '../../src/machines/diagrams.ts';
import { herderMachine } from '../../src/machines/herder.ts';
import { requestMachine } from '../../src/machines/request.ts';
import { workerMachine } from '../../src/machines/worker.ts';

const DOCS = join(import.meta.dirname, '../../docs');

describe('state diagrams', () => {
  const rendered = renderDiagrams();

  it('are deterministic', () => {
    expect(renderDiagrams()).toEqual(rendered);
  });

  it('show every state and every event of each machine', () => {
    const machines = { herder: herderMachine, worker: workerMachine, request: requestMachine };
    for (const [name, machine] of Object.entries(machines)) {
      const diagram = rendered.find((d) => d.path === `diagrams/${name}.md`)!;
      expect(diagram.content).toContain('stateDiagram-v2');
      for (const event of machine.events) expect(diagram.content).toContain(event);
      const states = (node: { key: string; states: object }): string[] =>
        Object.values(node.states).flatMap((child) => [child.key, ...states(child)]);
      for (const state of states(machine.root))
        expect(diagram.content.includes(`"${state}"`) || diagram.content.includes(`state ${state} {`)).toBe(
          true,
        );
    }
  });

  for (const { path, content } of rendered)
    it(`docs/${path} is up to date`, () => {
      let onDisk: string | undefined;
      try {
        onDisk = readFileSync(join(DOCS, path), 'utf8');
      } catch {
        onDisk = undefined;
      }
      expect(
        onDisk === content,
        `docs/${path} ${onDisk === undefined ? 'is missing' : 'differs from the machine definitions'}: run \`npm run docs\` to regenerate it`,
      ).toBe(true);
    });
});
