const mod = await import(process.argv[2] === 'copy' ? './courier-copy.ts' : '../bench/courier.ts');
const gc = globalThis.gc as () => void;
const med = async (f: (n: number) => Promise<number>, n: number) => { await f(n / 10); const r = []; for (let i = 0; i < 5; i++) { gc(); r.push(await f(n)); } r.sort((a, b) => a - b); return Math.round(r[2]); };
const out = {
  spawn: await med(mod.spawnRate, 200000),
  pp: await med(mod.pingPong, 300000),
  m2o: await med((n: number) => mod.manyToOne(n, 4), 1000000),
  idle: Math.round(await mod.idleMemory(100000, gc)),
};
console.log(JSON.stringify(out));
