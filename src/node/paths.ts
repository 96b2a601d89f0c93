/** Where the repository and its public/ folder (zoo models, built-in data) are on disk. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const PUBLIC_DIR = path.join(ROOT, 'public');
