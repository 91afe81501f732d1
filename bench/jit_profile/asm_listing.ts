// Parse the machine code lavapipe prints for each compute pipeline under GALLIVM_DEBUG=asm (with
// MESA_SHADER_CACHE_DISABLE=true, so that every pipeline is compiled, hence printed): a function
// header line `name:` (`cs_co_variant:` for a compute shader, `cs_co_variant.resume:` for the part
// after a barrier), then one line per instruction, `<hex offset>:\t<mnemonic>\t<operands>`.
// Offsets count from the function's first byte; where the function landed in memory is not printed
// (bench/jit_profile/match_samples.ts finds it from the sampled addresses).

export interface AsmInstruction {
  /** Byte offset from the function's start. */
  offset: number;
  mnemonic: string;
  operands: string;
}

export interface AsmFunction {
  name: string;
  /** 1-based line of the header in the listing (functions share names: this tells them apart). */
  line: number;
  instructions: AsmInstruction[];
  /** Bytes from the first instruction to the end of the last (its length taken as at most 16). */
  size: number;
  /**
   * The listing stops before the function does: lavapipe disassembles at most LISTING_LIMIT bytes of
   * a function (Mesa 25.0; the last line then decodes the limit's last bytes as `invalid`), so a
   * larger function's code past that point is missing from the listing.
   */
  truncated: boolean;
}

/** How much of a function lavapipe's disassembler prints (96 KiB, as seen in Mesa 25.0's listings). */
export const LISTING_LIMIT = 0x18000;

const HEADER = /^([A-Za-z_.$][\w.$]*):\s*$/;
const INSTRUCTION = /^\s+([0-9a-f]+):\t(\S+)(?:\t(.*))?$/;

/** The functions of a GALLIVM_DEBUG=asm listing, in order; lines that are neither are skipped. */
export function parseAsmListing(text: string): AsmFunction[] {
  const fns: AsmFunction[] = [];
  let cur: AsmFunction | null = null;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    const h = HEADER.exec(l);
    if (h) {
      cur = { name: h[1], line: i + 1, instructions: [], size: 0, truncated: false };
      fns.push(cur);
      continue;
    }
    const m = INSTRUCTION.exec(l);
    if (m && cur) cur.instructions.push({ offset: parseInt(m[1], 16), mnemonic: m[2], operands: (m[3] ?? '').trim() });
  }
  const withCode = fns.filter((f) => f.instructions.length > 0);
  for (const f of withCode) {
    const last = f.instructions[f.instructions.length - 1];
    f.size = last.offset + 16;
    f.truncated = last.mnemonic === 'invalid' && last.offset + 16 >= LISTING_LIMIT;
  }
  return withCode;
}
