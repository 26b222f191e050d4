// The package for Node as an ES module: the web module, initialised at import time with the
// .wasm beside it, so that the API is ready to use without calling `init()`.
import { readFileSync } from 'node:fs';
import { initSync } from './tokenlife.js';

initSync({ module: readFileSync(new URL('./tokenlife_bg.wasm', import.meta.url)) });

export * from './tokenlife.js';
export { default } from './tokenlife.js';
