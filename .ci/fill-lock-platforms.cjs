// Usage: node .ci/fill-lock-platforms.cjs package-lock.json   (after an `npm install` that changed the lock)
//
// Packages such as rollup, turbo and cbor-extract list one optional native package per platform.
// `npm ci` insists that each of them has an entry in package-lock.json, but a registry that lacks
// some of those builds (the mirror this project's machines use carries only some Linux ones)
// makes `npm install` leave them out, and `npm ci` then refuses the lock ("Missing:
// @rollup/rollup-darwin-arm64@… from lock file"). This adds the missing entries, marked optional,
// with the os/cpu/libc their names spell, so npm ci skips them where they do not match and
// fetches them where they do. Entries already present are kept as they are.
const fs = require('fs');

const OS = { android: 'android', darwin: 'darwin', freebsd: 'freebsd', linux: 'linux', openbsd: 'openbsd', openharmony: 'openharmony', win32: 'win32', windows: 'win32', netbsd: 'netbsd', sunos: 'sunos', aix: 'aix' };
const CPU = { arm: 'arm', arm64: 'arm64', x64: 'x64', 64: 'x64', ia32: 'ia32', loong64: 'loong64', ppc64: 'ppc64', riscv64: 'riscv64', s390x: 's390x', mips64el: 'mips64el' };
const LIBC = { gnu: 'glibc', gnueabihf: 'glibc', musl: 'musl', musleabihf: 'musl' };

/** os/cpu/libc from a platform package name (`@rollup/rollup-linux-arm-musleabihf`), or undefined. */
function platformOf(name) {
  const tokens = name.split('/').pop().split('-');
  const os = tokens.map((t) => OS[t]).find(Boolean);
  const cpu = tokens.map((t) => CPU[t]).find(Boolean);
  if (os === undefined || cpu === undefined) return undefined;
  const libc = os === 'linux' ? tokens.map((t) => LIBC[t]).find(Boolean) : undefined;
  return { os, cpu, libc };
}

const file = process.argv[2] ?? 'package-lock.json';
const lock = JSON.parse(fs.readFileSync(file, 'utf8'));
const packages = lock.packages;
let added = 0;
for (const [path, pkg] of Object.entries(packages)) {
  if (!path.startsWith('node_modules/') || pkg.optionalDependencies === undefined) continue;
  for (const [dep, version] of Object.entries(pkg.optionalDependencies)) {
    const key = `node_modules/${dep}`;
    if (packages[key] !== undefined || packages[`${path}/${key}`] !== undefined) continue;
    const p = platformOf(dep);
    if (p === undefined) {
      console.warn(`skipped ${dep}@${version} (optional dependency of ${path}): not a platform package name`);
      continue;
    }
    packages[key] = { version, cpu: [p.cpu], ...(pkg.dev ? { dev: true } : {}), ...(p.libc ? { libc: [p.libc] } : {}), optional: true, os: [p.os] };
    added++;
  }
}
// npm keeps "" (the root) first, then paths in code-point order.
lock.packages = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0)));
fs.writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`${file}: added ${added} platform entr${added === 1 ? 'y' : 'ies'}`);
