// Bundles the CLI, the library entry and the benchmarks into dist/. Dawn (webgpu) and wgsl_reflect
// stay external: webgpu loads a native addon, and Node resolves both from node_modules at run time.
// Shaders are read from shaders/ at run time (src/gpu/shader_source.ts), not bundled.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

// TF.js (bench/tfjs/, the comparison in `npm run bench`) ships CommonJS node bundles ('main') that leave
// out the gradient registrations, and ES modules ('module') that have them; bundle the ES modules of its
// packages in every build, so that one copy of tfjs-core is bundled whichever entry imports it.
const requireHere = createRequire(import.meta.url);
const tfjsEsm = {
  name: 'tfjs-esm',
  setup(b) {
    b.onResolve({ filter: /^@tensorflow\/tfjs-[a-z-]+$/ }, (args) => {
      const pkgJson = requireHere.resolve(`${args.path}/package.json`);
      const pkg = JSON.parse(readFileSync(pkgJson, 'utf8'));
      return { path: join(dirname(pkgJson), pkg.module ?? pkg.main) };
    });
  },
};

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  external: ['webgpu', 'wgsl_reflect', 'wgsl_reflect/*', 'vega', 'vega-lite', '@resvg/resvg-js', 'dejavu-fonts-ttf'],
  logLevel: 'warning',
  plugins: [tfjsEsm],
  // Some bundled CommonJS deps call require(); give ESM output a real one.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
};

await build({ ...common, entryPoints: { cli: 'src/cli/main.ts' }, outdir: 'dist', banner: { js: '#!/usr/bin/env node\n' + common.banner.js } });
await build({ ...common, entryPoints: { index: 'src/index.ts', bench: 'bench/main.ts', 'bench-tfjs': 'bench/tfjs/main.ts', 'gpu-check': 'bench/gpu/check.ts', 'jit-profile': 'bench/jit_profile/main.ts' }, outdir: 'dist' });
if (!process.argv.includes('--no-types')) {
  execFileSync('npx', ['tsc', '-p', '.', '--emitDeclarationOnly'], { stdio: 'inherit' });
}
