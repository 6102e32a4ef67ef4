/**
 * Core's scheduler yields to the event loop with `setImmediate` (Node's). A page has none: give it
 * one made of a MessageChannel (a macrotask without setTimeout's 4 ms clamp). Installed only when
 * missing, only by this browser entry.
 */
export function setImmediateShim(): void {
  const g = globalThis as unknown as { setImmediate?: (f: () => void) => unknown };
  if (typeof g.setImmediate === 'function') return;
  const queue: Array<() => void> = [];
  const channel = new MessageChannel();
  // The DOM's MessagePort (setting onmessage starts it); Node's typings describe another one.
  (channel.port1 as unknown as { onmessage: () => void }).onmessage = () => {
    const f = queue.shift();
    if (f) f();
  };
  g.setImmediate = (f: () => void) => {
    queue.push(f);
    channel.port2.postMessage(0);
    return queue.length;
  };
}
