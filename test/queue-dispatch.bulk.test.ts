import { afterAll, beforeAll, expect, it } from 'vitest';
import BetterSqlite3 from 'better-sqlite3';
import path from 'node:path';
import { waitFor } from './helpers/wait.js';
import { APP_BACKENDS, createApp, describeBackend, type TestApp } from './helpers/app.js';

/** Each test runs `bin/run` several times: generous on a loaded machine. */
const SLOW = 120_000;

/*
 * `run queue:dispatch NAME < lines.ndjson` (issue 11, item 6): every line is checked before any
 * job is stored, the line numbers in errors are the input's (blank lines counted), the ids come
 * back in input order, and unique jobs deduplicate across batches, on every backend. Time and
 * memory for a million lines are measured in bench/ (docs/performance.md), not here.
 */

const CONFIG = `
import { defineConfig, defineJob } from 'jobsmith';
import { z } from 'zod';

export const bulk = defineJob({
  name: 'bulk.job',
  schema: z.object({ n: z.number() }),
  async handle() {},
});
export const once = defineJob({
  name: 'once.job',
  schema: z.object({ n: z.number() }),
  unique: { key: (p: { n: number }) => 'k' + (p.n % 2500), for: 3600 },
  async handle() {},
});
export default defineConfig({ jobs: [bulk, once] });
`;

/** 6,000 payloads, a blank line after every 1,000th: the input line of payload n is n + ⌊(n-1)/1000⌋. */
const COUNT = 6_000;
function ndjson(count = COUNT, replace?: { n: number; text: string }): string {
  const lines: string[] = [];
  for (let n = 1; n <= count; n++) {
    lines.push(n === replace?.n ? replace.text : JSON.stringify({ n }));
    if (n % 1000 === 0) lines.push('');
  }
  return `${lines.join('\n')}\n`;
}
const lineOf = (n: number) => n + Math.floor((n - 1) / 1000);

interface Listed {
  id: string;
  payload: string;
}

for (const backend of APP_BACKENDS) {
  describeBackend(backend, 'queue:dispatch from NDJSON on stdin', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await createApp(backend, CONFIG);
      const migrated = await app.run(['migrate']);
      expect(migrated.code, migrated.stderr).toBe(0);
    }, SLOW);
    afterAll(() => app?.cleanup());

    const pending = async (queue: string) => {
      const result = await app.run(['queue:size', queue, '--json']);
      expect(result.code, result.stderr).toBe(0);
      return (JSON.parse(result.stdout) as Array<{ pending: number }>)[0]!.pending;
    };
    const page = async (queue: string, n: number) => {
      const result = await app.run([
        'queue:list',
        queue,
        '--per-page',
        '1000',
        '--page',
        String(n),
        '--json',
      ]);
      expect(result.code, result.stderr).toBe(0);
      return JSON.parse(result.stdout) as Listed[];
    };

    it(
      'stores every line and prints the ids in input order, blank lines skipped',
      async () => {
        const result = await app.run(['queue:dispatch', 'bulk.job', '--queue', 'b1', '--json'], {
          input: ndjson(),
        });
        expect([result.code, result.stderr]).toEqual([0, '']);
        const ids = (JSON.parse(result.stdout) as Array<{ id: string; deduplicated: boolean }>).map(
          (r) => {
            expect(r.deduplicated).toBe(false);
            return r.id;
          },
        );
        expect(ids).toHaveLength(COUNT);
        expect(new Set(ids).size).toBe(COUNT);
        expect(await pending('b1')).toBe(COUNT);
        // The first and the last thousand, across batch boundaries: id i holds payload i + 1.
        for (const [n, from] of [
          [1, 0],
          [6, 5_000],
        ] as const) {
          const rows = await page('b1', n);
          expect(rows.map((r) => r.id)).toEqual(ids.slice(from, from + 1000));
          expect(rows.map((r) => r.payload)).toEqual(
            rows.map((_, i) => JSON.stringify({ n: from + i + 1 })),
          );
        }
      },
      SLOW,
    );

    it(
      'prints one line per job without --json',
      async () => {
        const result = await app.run(['queue:dispatch', 'bulk.job', '--queue', 'b2'], {
          input: '{"n":1}\n\n{"n":2}\n',
        });
        expect(result.code, result.stderr).toBe(0);
        expect(result.stdout).toMatch(
          /^Dispatched {2}bulk\.job #\S+\nDispatched {2}bulk\.job #\S+\n$/,
        );
      },
      SLOW,
    );

    it(
      'stores nothing when a line anywhere is not JSON, and names its line in the input',
      async () => {
        const result = await app.run(['queue:dispatch', 'bulk.job', '--queue', 'b3'], {
          input: ndjson(COUNT, { n: 5_500, text: '{"n":' }),
        });
        expect(result.code).toBe(2);
        expect(result.stdout).toBe('');
        expect(result.stderr).toBe(
          `Error: stdin line ${lineOf(5_500)} is not valid JSON: Unexpected end of JSON input\n` +
            'Nothing was dispatched: fix that line and run the command again.\n',
        );
        expect(lineOf(5_500)).toBe(5_505);
        expect(await pending('b3')).toBe(0);
      },
      SLOW,
    );

    it(
      'stores nothing when a line anywhere fails the schema, and names its line',
      async () => {
        const result = await app.run(['queue:dispatch', 'bulk.job', '--queue', 'b4'], {
          input: ndjson(COUNT, { n: 5_777, text: '{"n":"seven"}' }),
        });
        expect(result.code).toBe(2);
        expect(result.stderr).toBe(
          `Error: stdin line ${lineOf(5_777)}: Invalid payload for job bulk.job: n: Expected number, received string\n` +
            'Nothing was dispatched: fix that line and run the command again.\n',
        );
        expect(await pending('b4')).toBe(0);
      },
      SLOW,
    );

    it(
      'deduplicates unique jobs across batches, to the id that holds the key',
      async () => {
        const result = await app.run(['queue:dispatch', 'once.job', '--queue', 'b5', '--json'], {
          input: ndjson(5_200),
        });
        expect([result.code, result.stderr]).toEqual([0, '']);
        const results = JSON.parse(result.stdout) as Array<{ id: string; deduplicated: boolean }>;
        expect(results).toHaveLength(5_200);
        // Payload n holds key k(n % 2500): n = 1..2500 are new; each later one meets an earlier.
        for (let n = 1; n <= 5_200; n++) {
          const holder = ((n - 1) % 2500) + 1;
          expect(results[n - 1]).toEqual(
            n <= 2500
              ? { id: expect.any(String), deduplicated: false }
              : { id: results[holder - 1]!.id, deduplicated: true },
          );
        }
        expect(await pending('b5')).toBe(2_500);
      },
      SLOW,
    );

    it(
      'says stdin was empty when it holds only blank lines',
      async () => {
        const result = await app.run(['queue:dispatch', 'bulk.job', '--queue', 'b6'], {
          input: '\n  \n\n',
        });
        expect(result.code).toBe(2);
        expect(result.stderr).toBe(
          'Error: No payload: stdin was empty. Give --payload JSON or pipe JSON lines.\n',
        );
      },
      SLOW,
    );

    if (backend === 'sqlite') {
      it(
        'leaves the database writable while a slow producer is still writing',
        async () => {
          const child = app.spawn(['queue:dispatch', 'bulk.job', '--queue', 'b7'], {
            keepStdinOpen: true,
          });
          child.child.stdin!.write(ndjson(2_000));
          // Another process takes the write lock at once, while the dispatch still reads stdin.
          const db = new BetterSqlite3(path.join(app.cwd, 'storage', 'database.sqlite'), {
            timeout: 0,
          });
          try {
            for (let i = 0; i < 5; i++) {
              await waitFor(
                () => {
                  db.exec('BEGIN IMMEDIATE');
                  db.exec('COMMIT');
                  return true;
                },
                { timeoutMs: 1_000, intervalMs: 50 },
              );
              await new Promise((r) => setTimeout(r, 100));
            }
          } finally {
            db.close();
          }
          expect(child.child.exitCode).toBe(null);
          child.child.stdin!.end('{"n":2001}\n');
          const result = await child.exited;
          expect([result.code, result.stderr]).toEqual([0, '']);
          expect(await pending('b7')).toBe(2_001);
        },
        SLOW,
      );
    }
  });
}
