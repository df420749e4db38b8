import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Readiness } from './readiness.ts';

// The one HTTP server of a process (DESIGN "HTTP"): `/healthz`, `/readyz`, `/metrics`, and
// whatever a role mounts beside them (Slack's `/slack/events`). Nothing here reads a body.

/** Where a role puts its own endpoint on the process's server; returns how to take it off. */
export interface HttpRoutes {
  readonly port: number;
  route(path: string, listener: RequestListener): () => void;
}

export interface OpsServerOptions {
  readonly port: number;
  readonly host?: string;
  readonly readiness: () => Promise<Readiness>;
  readonly metrics: () => Promise<{ text: string; contentType: string }>;
  readonly logger: Logger;
}

export interface OpsServer extends HttpRoutes {
  close(): Promise<void>;
}

const OPS_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const { logger } = options;
  const mounted = new Map<string, RequestListener>();

  const answerOps = async (path: string, res: ServerResponse): Promise<void> => {
    if (path === '/healthz') return json(res, 200, { status: 'ok', pid: process.pid, uptimeSeconds: Math.round(process.uptime()) });
    if (path === '/readyz') {
      const readiness = await options.readiness();
      return json(res, readiness.ready ? 200 : 503, { ready: readiness.ready, notReady: readiness.checks.filter((c) => !c.ok), checks: readiness.checks });
    }
    const { text, contentType } = await options.metrics();
    res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
    res.end(text);
  };

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    let path: string;
    try {
      path = new URL(req.url ?? '/', 'http://localhost').pathname;
    } catch {
      return json(res, 400, { error: 'BadRequest', message: 'the request target is not a path' });
    }
    const own = mounted.get(path);
    if (own) {
      try {
        own(req, res);
      } catch (error) {
        // Bolt throws synchronously for requests it has no listener for.
        logger.warn({ err: error, path }, 'a mounted endpoint refused a request');
        if (!res.headersSent) json(res, 404, { error: 'NotFound', message: `nothing answers ${req.method ?? ''} ${path}` });
      }
      return;
    }
    if (!OPS_PATHS.has(path))
      return json(res, 404, { error: 'NotFound', message: `no endpoint ${path}; endpoints: ${[...OPS_PATHS, ...mounted.keys()].join(', ')}` });
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return json(res, 405, { error: 'MethodNotAllowed', message: `${path} answers GET` });
    }
    answerOps(path, res).catch((error: unknown) => {
      logger.error({ err: error, path }, 'ops endpoint failed');
      if (!res.headersSent) json(res, 500, { error: 'Internal', message: `${path} could not be answered` });
    });
  };

  const server: Server = createServer(listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    route(path, handler) {
      if (OPS_PATHS.has(path) || mounted.has(path)) throw new Error(`${path} is already served`);
      mounted.set(path, handler);
      return () => void mounted.delete(path);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
