/**
 * What the echo node serves — the registered `echo` process and the `courier_echo` module — lives
 * in @courier/cli (services/echo.ts), so `courier node` and the echo node serve the same contract.
 */
export { courierEcho, startEcho } from '@courier/cli';
