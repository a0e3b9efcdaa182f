// Real nginx in front of a protected app, configured from the packaged
// packaging/nginx/gatehouse-protected-app.conf with only its ports and server name
// replaced (as tests/forward_auth_nginx.rs does), and the protected app itself: a
// small Node server whose page shows the identity headers it received.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { REPO } from './paths.js';

export const NGINX = process.env.GATEHOUSE_E2E_NGINX || '/usr/sbin/nginx';

/** `false`, or why to skip (outside CI only: under CI=true a missing nginx fails). */
export const skipWithoutNginx = existsSync(NGINX) || process.env.CI === 'true'
  ? false
  : `nginx not found at ${NGINX} (apt-get install -y nginx); skipped outside CI`;

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The protected app on 127.0.0.1:`port`: an HTML page listing the Remote-* headers. */
export async function startProtectedApp(port) {
  const server = http.createServer((req, res) => {
    const remote = Object.entries(req.headers)
      .filter(([name]) => name.startsWith('remote-'))
      .sort(([a], [b]) => a.localeCompare(b));
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Ticket desk</title></head>
<body><main><h1>Ticket desk</h1><p>Request: <code id="path">${escapeHtml(req.url)}</code></p>
<p>Signed in as <strong id="remote-user">${escapeHtml(req.headers['remote-user'] || '(nobody)')}</strong></p>
<dl>${remote.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd data-header="${escapeHtml(k)}">${escapeHtml(v)}</dd>`).join('')}</dl>
</main></body></html>`);
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }) };
}

/** Starts nginx on 127.0.0.1:`port` with the packaged site, its upstreams replaced. */
export async function startNginx({ port, gatehouse, app }) {
  const site = readFileSync(path.join(REPO, 'packaging', 'nginx', 'gatehouse-protected-app.conf'), 'utf8');
  for (const expected of ['listen 80;', 'server_name app.example.com;', '127.0.0.1:8080', '127.0.0.1:3000']) {
    if (!site.includes(expected)) throw new Error(`packaged nginx site no longer contains ${expected}`);
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-e2e-nginx-'));
  writeFileSync(path.join(dir, 'site.conf'), site
    .replace('listen 80;', `listen 127.0.0.1:${port};`)
    .replace('server_name app.example.com;', 'server_name 127.0.0.1;')
    .replaceAll('127.0.0.1:8080', `127.0.0.1:${gatehouse}`)
    .replaceAll('127.0.0.1:3000', `127.0.0.1:${app}`));
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((t) => `  ${t}_temp_path ${dir}/${t};`).join('\n');
  writeFileSync(path.join(dir, 'nginx.conf'), `${process.getuid?.() === 0 ? 'user root;\n' : ''}worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events { worker_connections 64; }
http {
  access_log ${dir}/access.log;
${temp}
  include ${dir}/site.conf;
}
`);
  const child = spawn(NGINX, ['-p', dir, '-c', `${dir}/nginx.conf`, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr}${readLog(dir)}`);
    if (await accepts(port)) break;
    if (Date.now() > deadline) throw new Error(`nginx did not start: ${stderr}${readLog(dir)}`);
    await sleep(50);
  }
  return {
    close: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function readLog(dir) {
  try {
    return readFileSync(path.join(dir, 'error.log'), 'utf8');
  } catch {
    return '';
  }
}

function accepts(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}
