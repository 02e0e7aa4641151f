/**
 * Encrypted payloads (issue 18) on real storage: the stored form is ciphertext (read from the
 * row or the Redis hash itself), the handler gets the plain payload, an old key in
 * APP_PREVIOUS_KEYS still opens, a payload no key opens fails at once (one attempt, the reason
 * naming the key ids and the fix) and keeps its ciphertext through queue:retry, and every
 * listing shows [encrypted]. Run by a .sqlite, a .pg and a .redis file.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { App } from '../src/cli/app.js';
import { createDashboardApp } from '../src/http/handler.js';
import type { DashboardSnapshot } from '../src/http/snapshot.js';
import { keyId, parseKey } from '../src/jobs/encryption/keys.js';
import { readSnapshot } from '../src/snapshot/snapshot.js';
import { createApp, describeBackend, type AppBackend, type TestApp } from './helpers/app.js';
import { redisCommands, redisUrl } from './helpers/services.js';

const CONFIG = `
import { appendFileSync } from 'node:fs';
import { defineConfig, defineJob } from 'jobsmith';
import { z } from 'zod';

export const secret = defineJob({
  name: 'secret.job',
  schema: z.object({ secret: z.string() }),
  encrypted: true,
  tries: 5,
  async handle(p) { appendFileSync('runs.log', 'secret.job:' + p.secret + '\\n'); },
});
export default defineConfig({ jobs: [secret] });
`;

/** Each test runs the CLI several times: a loaded machine takes seconds per run. */
const SLOW = 120_000;

const newKey = () => `base64:${randomBytes(32).toString('base64')}`;
const idOf = (key: string) => keyId(parseKey(key) as Buffer);
const MARK = '{"jobsmith:encrypted":1,';

export function encryptionSpecs(backend: AppBackend): void {
  describeBackend(backend, 'encrypted payloads', () => {
    let app: TestApp;
    const keyA = newKey();
    const keyB = newKey();

    beforeAll(async () => {
      app = await createApp(backend, CONFIG);
    }, 60_000);
    afterAll(async () => {
      await app?.cleanup();
    });

    const ok = async (args: string[], env?: Record<string, string | undefined>) => {
      const result = await app.run(args, { env });
      expect(result.stderr, `run ${args.join(' ')}`).toBe('');
      expect(result.code, `run ${args.join(' ')}`).toBe(0);
      return result.stdout;
    };
    const json = async <T>(args: string[], env?: Record<string, string | undefined>) =>
      JSON.parse(await ok([...args, '--json'], env)) as T;
    /** Dispatches secret.job with `secret` on `queue` (under `key`: else .env's); its id. */
    const dispatch = async (queue: string, secret: string, key?: string) => {
      const payload = JSON.stringify({ secret });
      const [out] = await json<Array<{ id: string }>>(
        ['queue:dispatch', 'secret.job', '--payload', payload, '--queue', queue],
        key === undefined ? undefined : { APP_KEY: key },
      );
      return out!.id;
    };
    const work = (queue: string, env: Record<string, string | undefined>) =>
      ok(['queue:work', '--queue', queue, '--stop-when-empty'], env);
    const runs = () => {
      const file = path.join(app.cwd, 'runs.log');
      return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
    };
    /** The payload as the storage holds it: the jobs row, or the data field of the Redis hash. */
    const storedPayload = async (id: string): Promise<string | undefined> => {
      if (backend === 'redis') {
        const key = `${app.env.REDIS_PREFIX}:${id}`;
        const [data] = await redisCommands(redisUrl(), [['HGET', key, 'data']]);
        return typeof data === 'string' ? data : undefined;
      }
      const row = await (await app.db()).knex('jobs').where({ id }).first();
      return row?.payload as string | undefined;
    };
    const failedRows = async (queue: string) =>
      (await app.db()).knex('failed_jobs').where({ queue }).orderBy('id');

    it(
      'stores the payload sealed, hands the handler the plain one, and lists it as [encrypted]',
      async () => {
        const secret = `s3cr3t-${randomUUID()}`;
        const id = await dispatch('enc-round', secret, keyA);

        const stored = await storedPayload(id);
        expect(stored?.startsWith(MARK), stored).toBe(true);
        expect(stored).not.toContain(secret);
        expect(JSON.parse(stored!)).toMatchObject({ kid: idOf(keyA) });

        const listed = await json<Array<Record<string, unknown>>>(['queue:list', 'enc-round']);
        expect(listed.map((j) => j.payload)).toEqual(['[encrypted]']);
        expect(await json(['queue:show', id])).toMatchObject({ id, payload: '[encrypted]' });
        const text = await ok(['queue:show', id]);
        expect(text).toContain('Payload     [encrypted]');
        expect(text).not.toContain('jobsmith:encrypted');

        await work('enc-round', { APP_KEY: keyA });
        expect(runs()).toContain(`secret.job:${secret}`);
      },
      SLOW,
    );

    it(
      'opens a payload sealed with an old key that APP_PREVIOUS_KEYS holds; new ones use APP_KEY',
      async () => {
        const secret = `rotated-${randomUUID()}`;
        const old = await dispatch('enc-rotate', secret, keyA);
        const fresh = await dispatch('enc-rotate', `${secret}-new`, keyB);
        expect(JSON.parse((await storedPayload(fresh))!)).toMatchObject({ kid: idOf(keyB) });
        expect(JSON.parse((await storedPayload(old))!)).toMatchObject({ kid: idOf(keyA) });

        await work('enc-rotate', { APP_KEY: keyB, APP_PREVIOUS_KEYS: `${newKey()}, ${keyA}` });
        expect(runs()).toEqual(
          expect.arrayContaining([`secret.job:${secret}`, `secret.job:${secret}-new`]),
        );
        expect(await failedRows('enc-rotate')).toEqual([]);
      },
      SLOW,
    );

    it(
      'fails a payload no key opens at once, naming the key ids and the fix; keeps its ciphertext through queue:retry',
      async () => {
        const secret = `lost-${randomUUID()}`;
        const id = await dispatch('enc-wrong', secret, keyA);
        const sealed = await storedPayload(id);

        await work('enc-wrong', { APP_KEY: keyB });
        expect(runs()).not.toContain(`secret.job:${secret}`);
        const [row, ...more] = await failedRows('enc-wrong');
        expect(more).toEqual([]);
        expect(Number(row.attempts)).toBe(1); // of 5 tries: no retry
        expect(row.reason).toBe('poison');
        expect(row.exception).toContain(
          `Cannot open the encrypted payload of secret.job: it was sealed with key ${idOf(keyA)}, and this process has key ${idOf(keyB)} (APP_KEY). Set APP_PREVIOUS_KEYS to the key it was sealed with`,
        );
        expect(row.payload).toBe(sealed);

        // Every listing of the failed job shows [encrypted], never the stored form.
        const failed = await json<Array<Record<string, unknown>>>([
          'queue:failed',
          '--queue',
          'enc-wrong',
        ]);
        expect(failed.map((f) => f.payload)).toEqual(['[encrypted]']);
        const history = await json<Array<Record<string, unknown>>>([
          'queue:history',
          '--queue',
          'enc-wrong',
        ]);
        expect(history.map((h) => h.payload)).toEqual(['[encrypted]']);
        expect(await json(['queue:show', id])).toMatchObject({ payload: '[encrypted]' });

        // Retried as it is: the same ciphertext, which the old key, now a previous one, opens.
        const retried = await json<{ retried: Array<{ new_id?: string; id?: unknown }> }>([
          'queue:retry',
          String(row.id),
        ]);
        expect(retried.retried).toHaveLength(1);
        const [live] = await json<Array<{ id: string }>>(['queue:list', 'enc-wrong']);
        expect(await storedPayload(live!.id)).toBe(sealed);
        await work('enc-wrong', { APP_KEY: keyB, APP_PREVIOUS_KEYS: keyA });
        expect(runs()).toContain(`secret.job:${secret}`);
      },
      SLOW,
    );

    it(
      'refuses to dispatch an encrypted job without a valid APP_KEY, saying to run key:generate',
      async () => {
        const payload = JSON.stringify({ secret: 'never-stored' });
        const args = ['queue:dispatch', 'secret.job', '--payload', payload, '--queue', 'enc-none'];
        const unset = await app.run(args);
        expect(unset.code).toBe(1);
        expect(unset.stderr).toContain(
          'Cannot dispatch secret.job: its payload is encrypted (defineJob({ encrypted: true })), and APP_KEY is not set.',
        );
        expect(unset.stderr).toContain('run key:generate');
        const bad = await app.run(args, { env: { APP_KEY: 'base64:dG9vLXNob3J0' } });
        expect(bad.code).toBe(1);
        expect(bad.stderr).toContain('APP_KEY is not a valid key: it decodes to 9 bytes, not 32');
        expect(bad.stderr).not.toContain('dG9vLXNob3J0');
        // From stdin (one job a line) the same.
        const piped = await app.run(args.slice(0, 2).concat(['--queue', 'enc-none']), {
          input: `${payload}\n`,
        });
        expect(piped.code).toBe(1);
        expect(piped.stderr).toContain('APP_KEY is not set');
        expect(await json(['queue:list', 'enc-none'])).toEqual([]);
      },
      SLOW,
    );

    it(
      'reads APP_KEY from the .env that key:generate writes',
      async () => {
        const env = path.join(app.cwd, '.env');
        try {
          expect(await ok(['key:generate'])).toMatch(/^Wrote {2}APP_KEY \(key [0-9a-f]{8}\)/);
          const written = /^APP_KEY=(.*)$/m.exec(readFileSync(env, 'utf8'))![1]!;
          const secret = `dotenv-${randomUUID()}`;
          const id = await dispatch('enc-dotenv', secret);
          expect(JSON.parse((await storedPayload(id))!)).toMatchObject({
            kid: idOf(written),
          });
          await work('enc-dotenv', {});
          expect(runs()).toContain(`secret.job:${secret}`);
        } finally {
          rmSync(env, { force: true });
        }
      },
      SLOW,
    );

    it(
      "shows [encrypted] in the dashboard's API, and seals what it dispatches",
      async () => {
        // The App reads .env under the real environment, as `run` does; only at its start.
        const env = { ...app.env, LOG_LEVEL: 'silent', APP_KEY: keyA };
        const lines = Object.entries(env).filter(([, v]) => v !== undefined);
        const file = path.join(app.cwd, '.env');
        writeFileSync(file, lines.map(([k, v]) => `${k}=${v}`).join('\n'));
        const inProcess = new App(app.cwd);
        rmSync(file);
        try {
          const snapshot = {
            get: () => readSnapshot(inProcess),
            refreshSoon: () => {},
            failure: () => undefined,
            close: async () => {},
          } as unknown as DashboardSnapshot;
          const site = createDashboardApp({ app: inProcess, readOnly: false, snapshot }, '');
          const secret = `api-${randomUUID()}`;
          const csrf = (
            (await (await site.request('/api/session')).json()) as { csrfToken: string }
          ).csrfToken;
          const posted = await site.request('/api/jobs/secret.job?queue=enc-api', {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
            body: JSON.stringify({ secret }),
          });
          expect(posted.status, await posted.clone().text()).toBe(201);
          const { id } = (await posted.json()) as { id: string };
          const stored = await storedPayload(id);
          expect(stored?.startsWith(MARK)).toBe(true);
          expect(stored).not.toContain(secret);

          const page = (await (await site.request('/api/jobs?queue=enc-api')).json()) as {
            jobs: Array<{ payload: string }>;
          };
          expect(page.jobs.map((j) => j.payload)).toEqual(['[encrypted]']);
          const one = (await (
            await site.request(`/api/jobs/${encodeURIComponent(id)}`)
          ).json()) as { payload: string };
          expect(one.payload).toBe('[encrypted]');

          // Failed with no key that opens it: the failed job and its history, shown the same.
          await work('enc-api', { APP_KEY: keyB });
          const failed = (await (await site.request('/api/failed?queue=enc-api')).json()) as {
            jobs: Array<{ id: number; payload: string }>;
          };
          expect(failed.jobs.map((j) => j.payload)).toEqual(['[encrypted]']);
          const detail = (await (
            await site.request(`/api/failed/${failed.jobs[0]!.id}`)
          ).json()) as {
            payload: string;
          };
          expect(detail.payload).toBe('[encrypted]');
          const history = (await (await site.request('/api/history?queue=enc-api')).json()) as {
            jobs: Array<{ payload: string }>;
          };
          expect(history.jobs.map((j) => j.payload)).toEqual(['[encrypted]']);
        } finally {
          await inProcess.close();
        }
      },
      SLOW,
    );
  });
}
