// The shared test vectors of tests/vectors, read by the Rust, Node and end-to-end tests.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './package.mjs';

const read = (name) => JSON.parse(readFileSync(join(root, 'tests/vectors', name), 'utf8'));

export const life = read('life.json');
export const tokens = read('tokens.json');
