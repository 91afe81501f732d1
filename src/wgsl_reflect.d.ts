// wgsl_reflect's ESM build ships no .d.ts of its own under this path; re-export the package types.
declare module 'wgsl_reflect/wgsl_reflect.module.js' {
  export * from 'wgsl_reflect';
}
