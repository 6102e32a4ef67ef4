#!/usr/bin/env node
/**
 * The consumer test: Courier as a team adopting it gets it, from npm tarballs, outside this repository.
 *
 *   node consumer/run.mjs [--no-build] [--keep]
 *
 * 1. builds (turbo, cached) and `npm pack`s every published package (and the third-party plugin
 *    example) into a fresh directory under the system temp dir, and checks what each tarball ships:
 *    LICENSE, NOTICE, package.json, the fields a registry page needs, built code and its types, the
 *    sources its source maps point to; no tests, no build info, no stale output without a source;
 * 2. runs the README's "In your own application, from npm" there, as written (see below): npm init,
 *    `npm install @courier/core @courier/term @courier/transport-tcp` (the tarballs standing in for the
 *    registry: real copies in node_modules, no workspace links, no path mapping), `tsc --strict`
 *    (module NodeNext) of the README's program, a real `erl`, and the program: two Courier nodes over
 *    TCP, a call between them, a call into erl;
 * 3. installs every other tarball beside them, bundles the same program with esbuild and runs it;
 * 4. runs `npx courier --help` and `npx courier names` from the installed CLI tarball, and
 *    `courier node --check` of a configuration naming the plugin example (a carrier kind `loopback`);
 * 5. require()s and import()s every entry point (ESM-only packages; require() of ESM from Node 20.19).
 *
 * Third-party dependencies come from npm's cache when it has them (`--prefer-offline`), install
 * scripts are not run. Prints a line per check and `consumer: ok` at the end; exits 1 at the first
 * failure. The temp directory is removed after a pass and kept (its path printed) after a failure
 * or with --keep.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = new Set(process.argv.slice(2));
const started = Date.now();
/** Private packages packed and installed beside the published ones: the third-party plugin example. */
const EXTRA = ['examples/plugin-carrier'];
/** What a published tarball may hold besides its package.json and LICENSE/NOTICE/README/CHANGELOG. */
const SHIPPED_DIRS = ['dist/', 'src/', 'bin/', 'public/'];

const log = (msg) => console.log(`consumer: ${msg} [${((Date.now() - started) / 1000).toFixed(0)} s]`);
function fail(msg) {
  console.error(`consumer: FAILED: ${msg}`);
  process.exit(1);
}
function check(ok, msg) {
  if (!ok) fail(msg);
}

/** The environment of a child npm/node: without the npm_* variables of an enclosing `npm run` (workspace settings). */
const cleanEnv = (extra = {}) => ({ ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_'))), ...extra });

function run(cmd, argv, cwd, env = cleanEnv()) {
  const r = spawnSync(cmd, argv, { cwd, env, encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'], timeout: 240_000, killSignal: 'SIGKILL' });
  if (r.status !== 0) fail(`${cmd} ${argv.join(' ')} (in ${cwd}) exited ${r.status ?? r.signal}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));
const freePort = () =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

// ---- 1. build and pack ------------------------------------------------------------------------
if (!args.has('--no-build')) {
  run('npm', ['run', '-s', 'build'], root);
  log('built');
}
const published = readdirSync(join(root, 'packages'))
  .map((d) => `packages/${d}`)
  .filter((d) => existsSync(join(root, d, 'package.json')) && !readJson(join(root, d, 'package.json')).private);
const extras = EXTRA.filter((d) => existsSync(join(root, d, 'package.json')));
const work = mkdtempSync(join(tmpdir(), 'courier-consumer-'));
// On every exit, passed or failed: the README's peer stopped (once started), the temp dir removed.
const cleanups = [];
process.on('exit', (code) => {
  for (const c of cleanups) c();
  if (args.has('--keep') || code !== 0) console.log(`consumer: kept ${work}`);
  // In the background: removing the app's node_modules takes seconds nobody needs to wait for.
  else spawn('rm', ['-rf', work], { detached: true, stdio: 'ignore' }).unref();
});
check(relative(root, work).startsWith('..'), `the temp dir ${work} is inside the repository`);
const tarballs = join(work, 'tarballs');
mkdirSync(tarballs);
const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', tarballs, ...[...published, ...extras].flatMap((d) => ['-w', d])], root));
check(packed.length === published.length + extras.length, `npm pack made ${packed.length} tarballs for ${published.length + extras.length} packages`);

for (const t of packed) {
  const files = t.files.map((f) => f.path);
  const has = (p) => files.includes(p);
  const dir = [...published, ...extras].find((d) => readJson(join(root, d, 'package.json')).name === t.name);
  const manifest = readJson(join(root, dir, 'package.json'));
  if (!manifest.private) {
    for (const f of ['package.json', 'LICENSE', 'NOTICE']) check(has(f), `${t.filename} lacks ${f}`);
    for (const k of ['license', 'description', 'repository', 'keywords', 'engines', 'exports', 'sideEffects', 'files']) check(k in manifest, `${t.name}: package.json has no ${k}`);
  }
  for (const entry of Object.values(manifest.exports ?? {})) {
    if (typeof entry !== 'object') continue;
    check(has(entry.types.replace(/^\.\//, '')) && has(entry.default.replace(/^\.\//, '')), `${t.filename} lacks ${entry.types} or ${entry.default}`);
  }
  for (const f of files) {
    const top = /^(package\.json|LICENSE|NOTICE|README\.md|CHANGELOG\.md)$/.test(f);
    check(top || SHIPPED_DIRS.some((d) => f.startsWith(d)), `${t.filename} ships ${f} (not built code, its sources or types)`);
    check(!/(^|\/)(test|tests|__tests__|fixtures)\/|\.(test|spec|bench)\.[cm]?[jt]s$|tsbuildinfo$/.test(f), `${t.filename} ships a test or build file: ${f}`);
    const js = /^dist\/(.*)\.js$/.exec(f);
    if (js && has('src/index.ts')) check(has(`src/${js[1]}.ts`), `${t.filename} ships ${f} without src/${js[1]}.ts (stale output: rebuild from clean)`);
  }
  log(`packed ${t.filename}: ${files.length} files, ${(t.size / 1024).toFixed(0)} KiB`);
}

// ---- 2. the README's "In your own application, from npm", as written ----------------------------
// Its shell block runs line by line in bash, in the temp dir, with three substitutions that keep it
// off the registry and off the machine's EPMD: `npm install @courier/x` installs x's tarball (and
// those of the @courier packages it depends on); other packages it names are pinned to the versions
// this repository uses (so npm's cache serves them); the `save … as main.ts` comment writes the
// README's TypeScript block; ERL_EPMD_PORT is a free port. The output a `node` line's comment
// promises must appear.
const readme = readFileSync(join(root, 'README.md'), 'utf8').split('\n');
const at = readme.findIndex((l) => /^#{2,3} In your own application, from npm\s*$/.test(l));
check(at >= 0, 'README.md has no section "In your own application, from npm"');
const blocks = {};
for (let i = at + 1, fence = null, body = []; i < readme.length; i++) {
  const l = readme[i];
  if (fence === null && /^#{1,3} /.test(l)) break;
  const open = /^```(\w+)\s*$/.exec(l);
  if (fence === null && open) [fence, body] = [open[1], []];
  else if (fence !== null && l.startsWith('```')) [blocks[fence], fence] = [blocks[fence] ?? body.join('\n') + '\n', null];
  else if (fence !== null) body.push(l);
}
check(blocks.sh && blocks.ts, 'README.md "In your own application, from npm" needs a ```sh and a ```ts block');

const manifests = new Map([...published, ...extras].map((d) => [readJson(join(root, d, 'package.json')).name, readJson(join(root, d, 'package.json'))]));
const tarballOf = new Map(packed.map((t) => [t.name, join(tarballs, t.filename)]));
/** `name` and the @courier packages it depends on, transitively. */
function closure(name, seen = new Set()) {
  if (seen.has(name)) return seen;
  seen.add(name);
  for (const d of Object.keys(manifests.get(name)?.dependencies ?? {})) if (tarballOf.has(d)) closure(d, seen);
  return seen;
}
const version = (pkg) => readJson(join(root, 'node_modules', pkg, 'package.json')).version;
const NPM_FLAGS = ['--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'];
const epmdPort = await freePort();
const env = cleanEnv({ ERL_EPMD_PORT: String(epmdPort) });
const expected = [];
let appDir = work;
const script = ['set -euo pipefail'];
for (const line of blocks.sh.split('\n')) {
  const hash = line.search(/(^|\s)#/);
  const code = hash < 0 ? line : line.slice(0, hash);
  const comment = hash < 0 ? '' : line.slice(hash).replace(/^\s*#\s?/, '');
  if (code.trim() === '') {
    const save = /save the program below as (\S+?)[,:]/.exec(comment);
    if (save) script.push(`cat > ${save[1]} <<'COURIER_README_TS'\n${blocks.ts}COURIER_README_TS`);
    continue;
  }
  const mkdir = /^mkdir (\S+)/.exec(code);
  if (mkdir) appDir = join(work, mkdir[1]);
  if (/^npm (install|i) /.test(code)) {
    const words = code.trim().split(/\s+/).slice(2);
    const pkgs = words.flatMap((w) => (w.startsWith('-') ? [w] : tarballOf.has(w) ? [...closure(w)].map((n) => tarballOf.get(n)) : [`${w}@${version(w)}`]));
    script.push(['npm', 'install', ...pkgs, ...NPM_FLAGS].join(' '));
  } else if (/&\s*$/.test(code)) {
    // A peer started in the background: its output to a file (it would hold our pipe open), remembered
    // by pid (stopped below), waited for in EPMD.
    script.push(`${code.replace(/&\s*$/, '')} </dev/null >"${work}/peer.log" 2>&1 & echo $! > "${work}/peer.pid"`);
    const name = /-s?name (\S+?)@/.exec(code)?.[1];
    if (name) script.push(`for i in $(seq 150); do epmd -names 2>/dev/null | grep -q "^name ${name} " && break; sleep 0.2; done`);
  } else {
    script.push(code);
    if (/^node /.test(code) && comment) expected.push({ code, out: comment.trim() });
  }
}
check(expected.length > 0, 'the README block runs no `node` line with its expected output in a comment');
const stopPeer = () => {
  try {
    process.kill(Number(readFileSync(join(work, 'peer.pid'), 'utf8')), 'SIGTERM');
  } catch {
    /* not started, or gone */
  }
  spawnSync('epmd', ['-port', String(epmdPort), '-kill'], { stdio: 'ignore', env });
};
cleanups.push(stopPeer);

let out = run('bash', ['-c', script.join('\n')], work, env);
for (const e of expected) check(out.includes(e.out), `README: \`${e.code}\` should print ${e.out}; the block printed:\n${out}`);
for (const name of [...closure('@courier/transport-tcp'), '@courier/core', '@courier/term']) {
  const dir = join(appDir, 'node_modules', name);
  check(existsSync(dir) && !lstatSync(dir).isSymbolicLink() && relative(root, realpathSync(dir)).startsWith('..'), `${name} is not installed from its tarball in ${appDir}`);
}
log(`README "In your own application, from npm": ran as written in ${appDir}; printed ${expected.map((e) => e.out).join(' / ')}`);

// ---- 3. the same program bundled with esbuild; every other package installed ------------------
run('npm', ['install', ...packed.map((t) => tarballOf.get(t.name)), `esbuild@${version('esbuild')}`, ...NPM_FLAGS], appDir, env);
for (const t of packed) {
  const dir = join(appDir, 'node_modules', t.name);
  check(!lstatSync(dir).isSymbolicLink() && relative(root, realpathSync(dir)).startsWith('..'), `${t.name} is linked into the app, not installed from its tarball`);
}
log(`installed all ${packed.length} tarballs`);
run(
  join(appDir, 'node_modules/.bin/esbuild'),
  ['main.ts', '--bundle', '--platform=node', '--format=esm', '--target=node20', '--log-level=warning', '--outfile=bundle/main.mjs'],
  appDir,
);
for (const e of expected) {
  const argv = e.code.trim().split(/\s+/).slice(1);
  out = run(process.execPath, ['bundle/main.mjs', ...argv.slice(1)], appDir, env);
  check(out.includes(e.out), `the esbuild bundle of main.ts should print ${e.out}; it printed:\n${out}`);
}
log('esbuild bundle of main.ts: ran, same output');

// ---- 4. the CLI from its tarball ----------------------------------------------------------------
const app = appDir;
const help = run('npx', ['--no-install', 'courier', '--help'], app);
check(/usage/i.test(help), `npx courier --help printed no usage:\n${help}`);
const names = run('npx', ['--no-install', 'courier', 'names'], app, env);
check(/\bx\b/.test(names), `npx courier names did not list the README's erl node x:\n${names}`);
stopPeer();
log('npx courier --help, npx courier names (from the installed CLI, outside the repository): ok');

// The third-party plugin, installed from its tarball, swapped in by configuration alone.
const plugin = packed.find((t) => t.name === '@acme/courier-carrier-loopback');
if (plugin) {
  const yaml = ['node: { name: lab@127.0.0.1, cookie: c }', `plugins: ["${plugin.name}"]`, 'carriers:', '  - { kind: loopback, network: lab }', ''].join('\n');
  writeFileSync(join(app, 'node.yaml'), yaml);
  const checked = run('npx', ['--no-install', 'courier', 'node', '--config', 'node.yaml', '--check'], app);
  check(new RegExp(`loopback\\s+\\(${plugin.name}\\)`).test(checked), `courier node --check did not resolve the loopback carrier to ${plugin.name}:\n${checked}`);
  log(`courier node --check with the plugin ${plugin.name} from its tarball: ok`);
}

// ---- 5. require() and import() of every entry point ---------------------------------------------
// A package whose peer is vitest (the carrier-compliance suite) is loaded where its users load it:
// inside a vitest test file; every other entry point in plain Node.js, from CommonJS and from ESM.
const installed = packed.map((t) => readJson(join(app, 'node_modules', t.name, 'package.json')));
const entriesOf = (m) =>
  Object.keys(m.exports ?? { '.': 1 })
    .filter((k) => k !== './package.json')
    .map((k) => (k === '.' ? m.name : `${m.name}/${k.slice(2)}`));
const underVitest = (m) => Boolean(m.peerDependencies?.vitest);
const probe = (entries) => `
const { createRequire } = require('node:module');
const req = createRequire(__filename);
module.exports = async function probe() {
  const entries = ${JSON.stringify(entries)};
  for (const e of entries) {
    if (Object.keys(req(e)).length === 0) throw new Error('require(' + e + ') gave no exports');
    if (Object.keys(await import(e)).length === 0) throw new Error('import(' + e + ') gave no exports');
  }
  return 'probed ' + entries.length;
};
`;
const plain = installed.filter((m) => !underVitest(m)).flatMap(entriesOf);
const vitestOnes = installed.filter(underVitest).flatMap(entriesOf);
writeFileSync(join(app, 'probe.cjs'), probe(plain));
writeFileSync(join(app, 'probe-vitest.cjs'), probe(vitestOnes));
const probed = run(process.execPath, ['--no-warnings', '-e', "require('./probe.cjs')().then((r) => console.log(r))"], app);
check(probed.trim() === `probed ${plain.length}`, `require()/import() probe said: ${probed}`);
if (vitestOnes.length > 0) {
  writeFileSync(
    join(app, 'probe.test.mjs'),
    `import { createRequire } from 'node:module';\nimport { expect, test } from 'vitest';\ntest('entry points load', async () => expect(await createRequire(import.meta.url)('./probe-vitest.cjs')()).toBe('probed ${vitestOnes.length}'));\n`,
  );
  run(join(app, 'node_modules/.bin/vitest'), ['run', '--root', app, 'probe.test.mjs'], app);
}
log(`require() and import() of ${plain.length + vitestOnes.length} entry points (${vitestOnes.join(', ')} inside vitest): ok`);

log('ok');
