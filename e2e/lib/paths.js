// Where things are: the repository root and the screenshot folder.

import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Screenshots of every page visited: target/e2e/ (or GATEHOUSE_E2E_SHOTS). */
export const SHOTS = process.env.GATEHOUSE_E2E_SHOTS || path.join(REPO, 'target', 'e2e');
