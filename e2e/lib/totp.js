// RFC 6238 TOTP (HMAC-SHA-1, 30-second steps, 6 digits), as authenticator apps compute
// it, with a little state: Gatehouse accepts each time step once and only steps that
// strictly increase, so `next()` hands out a fresh step every time, waiting for the
// clock when the ±1 step of skew Gatehouse allows is used up.

import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

const STEP_SECONDS = 30;

/** Decodes RFC 4648 base32 (case-insensitive, padding and spaces ignored). */
export function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const clean = text.toUpperCase().replace(/[\s=]/g, '');
  let bits = 0;
  let value = 0;
  const out = [];
  for (const char of clean) {
    const index = alphabet.indexOf(char);
    if (index < 0) throw new Error(`not base32: ${char}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The 6-digit code of `step` for the base32 `secret` (RFC 4226 dynamic truncation). */
export function hotp(secret, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', base32Decode(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 1_000_000).padStart(6, '0');
}

export function currentStep() {
  return Math.floor(Date.now() / 1000 / STEP_SECONDS);
}

/** An authenticator app holding one secret. */
export class Authenticator {
  constructor(secret) {
    this.secret = secret;
    this.lastStep = -1;
  }

  /** A code for a step never used before, at most one step ahead of the clock. */
  async next() {
    let step = Math.max(currentStep(), this.lastStep + 1);
    while (step > currentStep() + 1) {
      const msIntoStep = Date.now() % (STEP_SECONDS * 1000);
      await sleep(STEP_SECONDS * 1000 - msIntoStep + 50);
      step = Math.max(currentStep(), this.lastStep + 1);
    }
    this.lastStep = step;
    return hotp(this.secret, step);
  }

  /** A six-digit code that is valid for no step near now. */
  wrong() {
    const now = currentStep();
    const near = new Set([-2, -1, 0, 1, 2].map((d) => hotp(this.secret, now + d)));
    let code = 123456;
    while (near.has(String(code))) code += 1;
    return String(code);
  }
}
