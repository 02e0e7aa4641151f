#!/usr/bin/env node
// The `mail` workload: SMTP messages per second against the smtp-server double
// (test/doubles/smtp, loaded with jiti: STARTTLS on the test certificate and a login, as a
// provider's port 587 asks):
//
//   npm run build && node bench/mail.mjs [--messages 1000] [--backends sqlite,pgsql,redis]
//     [--concurrency 1,5,10] [--single 100] [--out DIR]
//
// - nodemailer alone: --messages messages handed at once to one pooled transport (5
//   connections, jobsmith's settings); and --single messages one after another, each on a new
//   connection (no pool: a TCP and TLS handshake, a login and smtp-server's 100 ms greeting delay
//   per message).
// - jobsmith: --messages `mail.send` jobs stored up front (`run queue:dispatch mail.send`, one
//   payload a line), then one `run queue:work --queue mail --concurrency C --stop-when-empty`
//   per --concurrency value; the worker's pooled transport sends them. The rate counts from the
//   first message the server takes to the last, so the worker's start is left out.
//
// Each backend uses its own temp dir, PostgreSQL database or Redis prefix, removed at the end.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createJiti } from 'jiti';
import { BENCH_DIR, requireFromRoot, benchStorage } from './lib.mjs';

const args = new Map();
for (let i = 2; i < process.argv.length; i += 2) {
  args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
}
const list = (name, fallback) => (args.get(name) ?? fallback).split(',').filter(Boolean);
const MESSAGES = Number(args.get('messages') ?? 1000);
const SINGLE = Number(args.get('single') ?? 100);
const BACKENDS = list('backends', 'sqlite');
const CONCURRENCY = list('concurrency', '1,5,10').map(Number);
const OUT = args.get('out') ?? join(BENCH_DIR, 'results');
const RUN = join(BENCH_DIR, '..', 'bin', 'run');

const jiti = createJiti(import.meta.url);
const { startSmtpDouble, SMTP_TEST_CA } = await jiti.import('../test/doubles/smtp/index.ts');
const nodemailer = requireFromRoot('nodemailer');
const AUTH = { user: 'bench', pass: 'bench-pass' };
const CA = readFileSync(SMTP_TEST_CA);

const message = (i) => ({
  from: 'bench@example.com',
  to: `user${i}@example.com`,
  subject: `Message ${i}`,
  text: `Hello number ${i}.\n`.repeat(20),
});

/** Messages per second from the first message the server took to the last. */
function rate(taken) {
  const times = taken.map((m) => m.receivedAt).sort((a, b) => a - b);
  const seconds = (times.at(-1) - times[0]) / 1000;
  return { seconds, perSecond: (times.length - 1) / seconds };
}

async function nodemailerPooled(smtp) {
  const transport = nodemailer.createTransport({
    pool: true,
    maxConnections: 5,
    host: '127.0.0.1',
    port: smtp.port,
    requireTLS: true,
    auth: AUTH,
    tls: { ca: CA },
  });
  const before = smtp.messages.length;
  await Promise.all(Array.from({ length: MESSAGES }, (_, i) => transport.sendMail(message(i))));
  transport.close();
  return rate(smtp.messages.slice(before));
}

async function nodemailerSingle(smtp) {
  const before = smtp.messages.length;
  const started = performance.now();
  for (let i = 0; i < SINGLE; i++) {
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: smtp.port,
      requireTLS: true,
      auth: AUTH,
      tls: { ca: CA },
    });
    await transport.sendMail(message(i));
    transport.close();
  }
  const seconds = (performance.now() - started) / 1000;
  if (smtp.messages.length - before !== SINGLE) throw new Error('messages went missing');
  return { seconds, perSecond: SINGLE / seconds };
}

function cli(env, cwd, argv, input) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [RUN, ...argv], { cwd, env });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    child.stdout.resume();
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`run ${argv.join(' ')} exited ${code}: ${stderr}`)),
    );
    child.stdin.end(input ?? '');
  });
}

async function jobsmithRun(smtp, backend, concurrency) {
  const dir = mkdtempSync(join(tmpdir(), 'jobsmith-bench-mail-'));
  writeFileSync(join(dir, 'jobsmith.config.ts'), `export default { mail: {} };\n`);
  const storage = await benchStorage(backend, dir, 'mail');
  const { vars } = storage;
  const env = {
    ...process.env,
    NO_COLOR: '1',
    LOG_LEVEL: 'warn',
    ...vars,
    MAIL_URL: `smtp://${AUTH.user}:${AUTH.pass}@127.0.0.1:${smtp.port}`,
    MAIL_ENCRYPTION: 'starttls',
    MAIL_FROM: 'bench@example.com',
    NODE_EXTRA_CA_CERTS: SMTP_TEST_CA,
  };
  try {
    const payloads = Array.from({ length: MESSAGES }, (_, i) => {
      const { from: _from, ...rest } = message(i);
      return JSON.stringify(rest);
    });
    await cli(env, dir, ['queue:dispatch', 'mail.send'], `${payloads.join('\n')}\n`);
    const before = smtp.messages.length;
    await cli(env, dir, [
      'queue:work',
      '--queue',
      'mail',
      '--concurrency',
      String(concurrency),
      '--stop-when-empty',
      '--sleep',
      '100ms',
    ]);
    const taken = smtp.messages.slice(before);
    if (taken.length !== MESSAGES)
      throw new Error(`${taken.length} of ${MESSAGES} messages arrived`);
    return rate(taken);
  } finally {
    await storage.remove();
  }
}

const smtp = await startSmtpDouble({ security: 'starttls', auth: AUTH });
const rows = [];
const fmt = (r) => [r.seconds.toFixed(2), Math.round(r.perSecond).toLocaleString('en-US')];
try {
  const pooled = await nodemailerPooled(smtp);
  rows.push([`nodemailer, pooled (5 connections), ${MESSAGES} at once`, ...fmt(pooled), '1.00×']);
  const single = await nodemailerSingle(smtp);
  rows.push([
    `nodemailer, a connection per message, ${SINGLE} in a row`,
    ...fmt(single),
    (single.perSecond / pooled.perSecond).toFixed(2) + '×',
  ]);
  for (const backend of BACKENDS) {
    for (const c of CONCURRENCY) {
      const r = await jobsmithRun(smtp, backend, c);
      rows.push([
        `jobsmith ${backend}, queue:work --concurrency ${c}, ${MESSAGES} jobs`,
        ...fmt(r),
        (r.perSecond / pooled.perSecond).toFixed(2) + '×',
      ]);
      console.error(rows.at(-1).join(' | '));
    }
  }
} finally {
  await smtp.close();
}

const table = [
  '| side | seconds | messages/s | vs nodemailer pooled |',
  '| --- | ---: | ---: | ---: |',
  ...rows.map((r) => `| ${r.join(' | ')} |`),
].join('\n');
console.log(table);
mkdirSync(OUT, { recursive: true });
const file = join(OUT, `${new Date().toISOString().slice(0, 10)}-mail.md`);
writeFileSync(file, `${table}\n`);
console.error(`written to ${file}`);
