// A real SMTP server for the email scenarios: the same aiosmtpd script the cargo tests
// use (tests/fixtures/smtp/smtp_server.py), writing each message it accepts, decoded,
// as JSON into a temporary folder that the scenario reads its mail from.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { REPO } from './paths.js';

const SCRIPT = path.join(REPO, 'tests', 'fixtures', 'smtp', 'smtp_server.py');
const UNDER_CI = process.env.CI === 'true';

/** `false` when python3 with aiosmtpd is here (or under CI=true, where its absence fails), else why to skip. */
export const skipWithoutSmtp = spawnSync('python3', ['-c', 'import aiosmtpd']).status === 0 || UNDER_CI
  ? false
  : 'python3 with aiosmtpd not found (python3 -m pip install aiosmtpd); skipped outside CI';

export class SmtpServer {
  static async start() {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-e2e-smtp-'));
    const child = spawn('python3', [SCRIPT, '--dir', dir], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
    const port = await new Promise((resolve, reject) => {
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d) => {
        out += d;
        const match = /PORT (\d+)/.exec(out);
        if (match) resolve(Number(match[1]));
      });
      child.once('exit', (code) => reject(new Error(`the SMTP server exited (${code}): ${stderr} (python3 -m pip install aiosmtpd)`)));
    });
    return new SmtpServer(child, dir, port);
  }

  constructor(child, dir, port) {
    this.child = child;
    this.dir = dir;
    this.port = port;
  }

  /** The `[smtp]` section pointing Gatehouse at this server. */
  config() {
    return `[smtp]\nhost = '127.0.0.1'\nport = ${this.port}\nsecurity = 'none'\nfrom = 'Gatehouse <login@e2e.example>'`;
  }

  /** Every message received, oldest first. */
  messages() {
    return readdirSync(this.dir)
      .filter((name) => name.endsWith('.json') && !name.startsWith('.'))
      .sort()
      .map((name) => JSON.parse(readFileSync(path.join(this.dir, name), 'utf8')));
  }

  /** Waits (15 s at most) for a message to `to` whose subject matches `subject`. */
  async waitFor(to, subject) {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const found = this.messages().find((m) => m.rcpt_tos.includes(to) && subject.test(m.subject));
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no mail to ${to} about ${subject}; got ${JSON.stringify(this.messages().map((m) => m.subject))}`);
      await sleep(100);
    }
  }

  async stop() {
    this.child.stdin.end();
    this.child.kill('SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
