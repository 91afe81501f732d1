// A buffer's texture mirror (Gpu.dispatch's `textures`, src/gpu/runtime.ts): vec4 i of the buffer is
// texel (i % TEXTURE_ROW, i / TEXTURE_ROW) of an rgba32float texture TEXTURE_ROW texels wide
// (TEXTURE_ROW_TEXELS in the runtime; test/runtime.test.ts checks that they agree).
const TEXTURE_ROW: u32 = 1024u;

fn mirrorTexel(i: u32) -> vec2u {
  return vec2u(i % TEXTURE_ROW, i / TEXTURE_ROW);
}
