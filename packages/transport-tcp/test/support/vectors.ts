import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Real OTP 25 EPMD exchanges, copied from shared/vectors/erlang into ../fixtures (see its README). */
const file = fileURLToPath(new URL('../fixtures/epmd.json', import.meta.url));

export const hex = (h: string): Buffer => Buffer.from(h, 'hex');

export interface EpmdExchange {
  title: string;
  request_hex: string;
  request: {
    message: string;
    port?: number;
    node_type?: number;
    protocol?: number;
    highest_version?: number;
    lowest_version?: number;
    name?: string;
    extra_hex?: string;
  };
  response_hex: string;
  response: { message: string; result?: number; creation?: number; epmd_port_no?: number; text?: string; port?: number; node_type?: number; name?: string; extra_hex?: string };
}
export interface EpmdVectors {
  exchanges: EpmdExchange[];
  captured_from_erl_nodes: EpmdExchange[];
}

export const epmdVectors = (): EpmdVectors => JSON.parse(readFileSync(file, 'utf8')) as EpmdVectors;
