import { manyToOne, spawnRate, pingPong } from '../bench/courier.ts';
const which = process.argv[2];
const fn = which === 'm' ? (n: number) => manyToOne(n, 4) : which === 's' ? spawnRate : pingPong;
const n = which === 'm' ? 1_000_000 : which === 's' ? 200_000 : 300_000;
await fn(n / 10);
for (let i = 0; i < 5; i++) console.log(which, Math.round(await fn(n)));
