/**
 * The lab's web server: a small site with a login, run as its own process in
 * the lab's server namespace (`node dist/lab/http-server.js HOST PORT`).
 *
 *   GET  /, /about, /contact, /products, /products/1..24, /news, /news/1..12,
 *        /account, /static/app.js, /static/style.css   pages of fixed content (1-40 KB)
 *   POST /login    user=alice&password=... (form or JSON): 200 and a session cookie, else 401
 *   POST /upload   reads the whole body, discards it, answers {"received": bytes}
 *   anything else  404
 *
 * Page content is generated from the path with the project's seeded RNG, so a
 * page is the same bytes on every run. On SIGTERM it prints one JSON line with
 * its request counts and exits.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRng } from '../core/rng';

export const LAB_USER = 'alice';
export const LAB_PASSWORD = 'correct-horse-battery';

const WORDS =
  'network traffic packet flow server client request response latency bandwidth router switch firewall policy audit report invoice order customer product catalogue price stock delivery account profile session token update release notes security backup storage cluster region'.split(
    ' ',
  );

/** Every page path the site serves. */
export const LAB_PAGES: readonly string[] = [
  '/',
  '/about',
  '/contact',
  '/products',
  ...Array.from({ length: 24 }, (_, i) => `/products/${i + 1}`),
  '/news',
  ...Array.from({ length: 12 }, (_, i) => `/news/${i + 1}`),
  '/account',
  '/static/app.js',
  '/static/style.css',
];
const PAGE_SET = new Set(LAB_PAGES);

/** The content of a page: the same text for the same path on every run. */
export function pageContent(path: string): { type: string; body: string } {
  const rng = createRng('lab-site', path);
  const size = 1000 + rng.int(39_000);
  if (path.endsWith('.js') || path.endsWith('.css')) {
    let body = path.endsWith('.js') ? '"use strict";\n' : '';
    while (body.length < size) {
      const w = WORDS[rng.int(WORDS.length)];
      body += path.endsWith('.js') ? `function ${w}${rng.int(1000)}(a){return a*${rng.int(97)}+${rng.int(13)};}\n` : `.${w}-${rng.int(100)}{margin:${rng.int(20)}px;color:#${rng.int(0xffffff).toString(16).padStart(6, '0')}}\n`;
    }
    return { type: path.endsWith('.js') ? 'application/javascript' : 'text/css', body };
  }
  const title = path === '/' ? 'home' : path.slice(1).replace(/\//g, ' ');
  let body = `<!doctype html><html><head><title>lab ${title}</title><link rel="stylesheet" href="/static/style.css"></head><body><h1>${title}</h1>\n`;
  while (body.length < size) {
    const n = 8 + rng.int(30);
    const words: string[] = [];
    for (let i = 0; i < n; i++) words.push(WORDS[rng.int(WORDS.length)]);
    body += `<p>${words.join(' ')}.</p>\n`;
  }
  return { type: 'text/html; charset=utf-8', body: `${body}</body></html>\n` };
}

/** user and password from a form (application/x-www-form-urlencoded) or JSON body. */
export function loginFields(contentType: string | undefined, body: string): { user?: string; password?: string } {
  if (contentType?.includes('json')) {
    try {
      const v = JSON.parse(body) as { user?: unknown; password?: unknown };
      return { user: typeof v.user === 'string' ? v.user : undefined, password: typeof v.password === 'string' ? v.password : undefined };
    } catch {
      return {};
    }
  }
  const form = new URLSearchParams(body);
  return { user: form.get('user') ?? undefined, password: form.get('password') ?? undefined };
}

export interface ServerStats {
  requests: number;
  pages: number;
  loginOk: number;
  loginFailed: number;
  uploads: number;
  uploadedBytes: number;
  notFound: number;
}

/** The request handler, with the counters it keeps. */
export function labHandler(stats: ServerStats): (req: IncomingMessage, res: ServerResponse) => void {
  let sessions = 0;
  return (req, res) => {
    stats.requests++;
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, type: string, body: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), Server: 'lab-http/1', ...headers });
      res.end(body);
    };
    if (req.method === 'POST' && path === '/upload') {
      let n = 0;
      req.on('data', (chunk: Buffer) => (n += chunk.length));
      req.on('end', () => {
        stats.uploads++;
        stats.uploadedBytes += n;
        send(200, 'application/json', `${JSON.stringify({ received: n })}\n`);
      });
      req.on('error', () => res.destroy());
      return;
    }
    if (req.method === 'POST' && path === '/login') {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => {
        body += chunk;
        if (body.length > 10_000) req.destroy(); // a login form is small
      });
      req.on('end', () => {
        const { user, password } = loginFields(req.headers['content-type'], body);
        if (user === LAB_USER && password === LAB_PASSWORD) {
          stats.loginOk++;
          send(200, 'text/html; charset=utf-8', `<p>welcome ${LAB_USER}</p>\n`, { 'Set-Cookie': `session=s${++sessions}; HttpOnly; Path=/` });
        } else {
          stats.loginFailed++;
          send(401, 'text/html; charset=utf-8', '<p>invalid user or password</p>\n');
        }
      });
      return;
    }
    if ((req.method === 'GET' || req.method === 'HEAD') && PAGE_SET.has(path)) {
      stats.pages++;
      const page = pageContent(path);
      send(200, page.type, req.method === 'HEAD' ? '' : page.body);
      return;
    }
    stats.notFound++;
    req.resume();
    send(404, 'text/plain', 'not found\n');
  };
}

function main(argv: string[]): void {
  const [host, portText] = argv;
  const port = Number(portText);
  if (!host || !Number.isInteger(port)) {
    process.stderr.write('usage: node http-server.js HOST PORT\n');
    process.exit(2);
  }
  const stats: ServerStats = { requests: 0, pages: 0, loginOk: 0, loginFailed: 0, uploads: 0, uploadedBytes: 0, notFound: 0 };
  const server = createServer(labHandler(stats));
  server.on('clientError', (_err, socket) => socket.destroy());
  server.on('error', (e) => {
    process.stderr.write(`http-server: ${e.message}\n`);
    process.exit(4);
  });
  server.listen(port, host, 511, () => process.stdout.write(`listening ${host}:${port}\n`));
  const stop = () => {
    process.stdout.write(`${JSON.stringify(stats)}\n`, () => process.exit(0));
    server.close();
    server.closeAllConnections();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (require.main === module) main(process.argv.slice(2));
