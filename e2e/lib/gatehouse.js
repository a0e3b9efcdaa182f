// The real `gatehouse` binary for one scenario: its own data directory and
// configuration, `serve` on a free loopback port (the printed setup link captured),
// and CLI commands run against it while it serves.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { REPO } from './paths.js';

/** The binary under test: GATEHOUSE_E2E_BIN, else the debug build in the repository. */
export function gatehouseBinary() {
  const bin = process.env.GATEHOUSE_E2E_BIN || path.join(REPO, 'target', 'debug', 'gatehouse');
  if (!existsSync(bin)) {
    throw new Error(`gatehouse binary not found at ${bin}: run \`cargo build\` or set GATEHOUSE_E2E_BIN`);
  }
  return bin;
}

/**
 * The environment for gatehouse processes: without GATEHOUSE_* variables, which
 * Gatehouse reads as configuration keys (and refuses when unknown, like this suite's
 * own GATEHOUSE_E2E_*).
 */
function childEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('GATEHOUSE_')));
}

/** A free TCP port on 127.0.0.1 (released before use; the race is harmless here). */
export async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export class Gatehouse {
  /**
   * @param {string} extraConfig  TOML appended to the generated gatehouse.toml
   * @param {number} port  the port to listen on (a free one when not given)
   * @param {string} host  the host of public_url (passkeys need a name, `localhost`)
   */
  static async create(extraConfig = '', port = undefined, host = '127.0.0.1') {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-e2e-'));
    port ??= await freePort();
    const config = path.join(dir, 'gatehouse.toml');
    writeFileSync(config, [
      `listen = '127.0.0.1:${port}'`,
      `public_url = 'http://${host}:${port}'`,
      `data_dir = '${path.join(dir, 'data')}'`,
      extraConfig,
      '',
    ].join('\n'));
    return new Gatehouse(dir, port, config, host);
  }

  constructor(dir, port, config, host = '127.0.0.1') {
    this.dir = dir;
    this.port = port;
    this.config = config;
    this.base = `http://${host}:${port}`;
    this.bin = gatehouseBinary();
    this.stdout = '';
    this.stderr = '';
    this.child = null;
  }

  /**
   * Runs a CLI command (with `stdin` as input) and resolves to its stdout; rejects on
   * failure. Asynchronous on purpose: the server may call back into this very process
   * (the Entra look-alike) while the command runs.
   */
  cli(args, stdin = '') {
    const child = spawn(this.bin, ['--config', this.config, ...args], { env: childEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
    child.stdin.on('error', () => {}); // a command that fails early may not read stdin
    child.stdin.end(stdin);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.once('close', (status) => {
        clearTimeout(timer);
        if (status === 0) resolve(stdout);
        else reject(new Error(`gatehouse ${args.join(' ')} failed (${status}):\n${stdout}\n${stderr}`));
      });
    });
  }

  /** `cli` with `--json`, parsed. */
  async cliJson(args, stdin = '') {
    return JSON.parse(await this.cli(['--json', ...args], stdin));
  }

  /** Creates an admin from the command line (they enrol TOTP at their first sign-in). */
  createAdmin(email, name, password) {
    return this.cli(['admin', 'create', '--email', email, '--name', name, '--password-stdin'], password);
  }

  /** Starts `gatehouse serve` and waits until /healthz answers. */
  async serve() {
    this.child = spawn(this.bin, ['--config', this.config, 'serve'], { env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout.setEncoding('utf8').on('data', (d) => { this.stdout += d; });
    this.child.stderr.setEncoding('utf8').on('data', (d) => { this.stderr += d; });
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    const deadline = Date.now() + 30_000;
    for (;;) {
      const gone = await Promise.race([exited.then(() => true), sleep(100).then(() => false)]);
      if (gone) throw new Error(`gatehouse serve exited:\n${this.stdout}\n${this.stderr}`);
      try {
        const answer = await fetch(`${this.base}/healthz`);
        if (answer.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`gatehouse serve did not become healthy:\n${this.stderr}`);
    }
  }

  /** The `Setup link: …` line printed on stdout at the first start. */
  async setupLink() {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const match = /^Setup link: (\S+)$/m.exec(this.stdout);
      if (match) return match[1];
      if (Date.now() > deadline) throw new Error(`no setup link on stdout:\n${this.stdout}`);
      await sleep(50);
    }
  }

  /** Stops the server and removes its data directory. */
  async stop() {
    if (this.child && this.child.exitCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      const done = await Promise.race([exited.then(() => true), sleep(10_000, undefined, { ref: false }).then(() => false)]);
      if (!done) this.child.kill('SIGKILL');
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
