import { request } from 'node:http';
import { WebSocket } from 'ws';

/**
 * Clients of an observer that set the headers a browser or an attacker would: Host (which fetch
 * does not let a caller choose), Origin, Authorization, Cookie.
 */
export interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** GET `path` from 127.0.0.1:`port` with `headers` (`host` among them replaces the real one). */
export function get(port: number, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Open /ws on 127.0.0.1:`port` with `headers`: 101 and the first message (the node's hello) if
 * the observer lets the page in, else the status it refused the upgrade with.
 */
export function openPage(port: number, headers: Record<string, string> = {}): Promise<{ status: number; hello?: { type: string }; ws?: WebSocket }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers });
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0 });
      res.resume();
      ws.terminate();
    });
    ws.once('message', (d) => resolve({ status: 101, hello: JSON.parse((d as Buffer).toString()) as { type: string }, ws }));
    ws.once('error', reject);
  });
}
