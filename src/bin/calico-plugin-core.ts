// Not a program: the in-process half of the `calico` CNI plugin (src/cni/core.ts), bundled beside dist/bin/calico and
// loaded by it only when a request is not handed to calico-node. install-cni copies it with the plugin.
export { pluginCore } from '../cni/core.js';

if (typeof require !== 'undefined' && require.main === module) {
  process.stderr.write('calico-plugin-core: the calico CNI plugin loads this file; run `calico` instead\n');
  process.exit(2);
}
