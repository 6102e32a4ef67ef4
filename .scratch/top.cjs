const fs = require('fs'); const dir = process.argv[2];
const f = fs.readdirSync(dir)[0]; const p = JSON.parse(fs.readFileSync(dir + '/' + f));
const self = new Map(); const byId = new Map(p.nodes.map(n => [n.id, n]));
const dt = new Map(); for (let i = 0; i < p.samples.length; i++) dt.set(p.samples[i], (dt.get(p.samples[i]) || 0) + (p.timeDeltas[i] || 0));
let total = 0;
for (const n of p.nodes) { const t = dt.get(n.id) || 0; total += t; const cf = n.callFrame; const k = `${cf.functionName || '(anon)'} ${cf.url.split('/').slice(-2).join('/')}:${cf.lineNumber + 1}`; self.set(k, (self.get(k) || 0) + t); }
[...self].sort((a, b) => b[1] - a[1]).slice(0, 22).forEach(([k, t]) => console.log((100 * t / total).toFixed(1).padStart(5) + '%  ' + k));
