// The package for Node, Deno and Bun as an ES module: ready to use without `init()`. The
// .wasm is inlined (tokenlife_wasm.js) rather than read from beside this file, so that a
// bundle of an app (esbuild --platform=node and the like) works deployed alone.
import { initSync } from './tokenlife.js';
import wasmBytes from './tokenlife_wasm.js';

initSync({ module: wasmBytes() });

export * from './tokenlife.js';
export { default } from './tokenlife.js';
