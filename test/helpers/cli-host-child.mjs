// One `run` process that runs many commands, one at a time, for test/helpers/cli-host.ts.
// It imports the CLI once, then for each message: swaps in the command's environment, folder
// and stdin, captures stdout and stderr, calls main(args) as bin/run does, and answers with the
// exit code and the output. Plain JavaScript: it runs under node itself, not vitest.
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';

const moduleCache = createRequire(import.meta.url).cache;

const { main } = await import(new URL('../../dist/src/cli/main.js', import.meta.url).href);

// main() adds EPIPE listeners to stdout and stderr on every call; a command may add its own.
process.setMaxListeners(0);
process.stdout.setMaxListeners(0);
process.stderr.setMaxListeners(0);

let stdout = '';
let stderr = '';
const capture = (append) =>
  function write(chunk, encoding, callback) {
    append(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const done = typeof encoding === 'function' ? encoding : callback;
    if (done) queueMicrotask(done);
    return true;
  };
process.stdout.write = capture((s) => (stdout += s));
process.stderr.write = capture((s) => (stderr += s));

process.on('message', async ({ args, cwd, env, input }) => {
  for (const key of Object.keys(process.env)) delete process.env[key];
  Object.assign(process.env, env);
  process.chdir(cwd);
  // A test may rewrite its config between commands: jiti keeps what it loaded in Node's
  // module cache, where a new process would read the file again.
  for (const file of Object.keys(moduleCache)) {
    if (file.startsWith(cwd)) delete moduleCache[file];
  }
  const stdin = Readable.from(input === undefined ? [] : [Buffer.from(input)]);
  Object.defineProperty(process, 'stdin', { configurable: true, get: () => stdin });
  process.exitCode = undefined;
  stdout = '';
  stderr = '';
  let code;
  try {
    code = await main(args);
  } catch (error) {
    stderr += `[cli-host] main threw: ${error?.stack ?? error}\n`;
    code = 70;
  }
  process.exitCode = undefined;
  process.send({ code, stdout, stderr });
});
process.send({ ready: true });
