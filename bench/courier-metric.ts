/**
 * Measures one Courier metric in a fresh V8 (so no metric inherits another's heap or JIT state)
 * and prints `COURIER_METRIC <value>`. Started by bench/run.ts as
 * `node --expose-gc --conditions=source --import tsx bench/courier-metric.ts METRIC SIZES_JSON`.
 */
import { measure, type Metric, type Sizes } from './courier.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');
const [metric, sizes] = process.argv.slice(2) as [Metric, string];
const value = await measure(metric, JSON.parse(sizes) as Sizes, gc);
console.log(`COURIER_METRIC ${value}`);
