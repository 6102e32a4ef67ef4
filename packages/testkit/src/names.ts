import { randomBytes } from 'node:crypto';

let counter = 0;

/** A name no other test, worker or run on this machine will pick: prefix, pid, counter, random. */
export function uniqueName(prefix: string): string {
  counter++;
  return `${prefix}_${process.pid}_${counter}_${randomBytes(3).toString('hex')}`;
}

/** A fresh random cookie. */
export function randomCookie(): string {
  return randomBytes(12).toString('hex');
}
