// `import module from 'tokenlife/tokenlife_bg.wasm'`: the package's .wasm as edge runtimes
// (Cloudflare Workers, workerd) and their bundlers hand it to a worker, compiled; pass it
// to `initSync({ module })`. Needs the `WebAssembly` types (DOM lib or the runtime's).
declare const module: WebAssembly.Module;
export default module;
