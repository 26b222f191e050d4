// tokenlife/fresh for Node: the package initialised with its .wasm (node.mjs), then fresh.js
// over that same module instance.
import './node.mjs';

export * from './fresh.js';
