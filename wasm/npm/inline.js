// The package for browsers and bundlers (the `browser` and `default` conditions): the web
// module, with `init()` taking the .wasm inlined in tokenlife_wasm.js when it is given
// nothing, so that a bundle works whether or not the bundler emits `.wasm` files.
// `tokenlife/web` is the web module alone, which fetches tokenlife_bg.wasm beside it.
import initWeb from './tokenlife.js';
import wasmBytes from './tokenlife_wasm.js';

export * from './tokenlife.js';

/** Instantiates the package, by default from the inlined .wasm. */
export default function init(moduleOrPath) {
  return initWeb(moduleOrPath === undefined ? { module_or_path: wasmBytes() } : moduleOrPath);
}
