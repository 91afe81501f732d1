// A minimal reader for (gzipped) tar archives: ustar / GNU / pax headers, regular files only.
// Enough for the official cifar-10-binary.tar.gz; every malformed case is a thrown error naming the
// archive, never a silently short result.
import { gunzipSync } from 'node:zlib';

export interface TarEntry {
  path: string;
  data: Uint8Array;
}

function cstr(b: Uint8Array, off: number, len: number): string {
  let end = off;
  while (end < off + len && b[end] !== 0) end++;
  return Buffer.from(b.buffer, b.byteOffset + off, end - off).toString('utf8');
}

function octal(b: Uint8Array, off: number, len: number, what: string, archive: string): number {
  if (b[off] & 0x80) {
    // GNU base-256 encoding for large values.
    let v = 0;
    for (let i = 1; i < len; i++) v = v * 256 + b[off + i];
    return v;
  }
  const s = cstr(b, off, len).trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw new Error(`${archive}: corrupt tar header (${what} field '${s}')`);
  return parseInt(s, 8);
}

/** Gunzip a .tar.gz held in memory. */
export function gunzipArchive(gz: Uint8Array, archive: string): Uint8Array {
  try {
    return gunzipSync(gz);
  } catch (e) {
    throw new Error(`${archive}: cannot gunzip (${(e as Error).message}); the download is corrupt or truncated`);
  }
}

/** Parse an uncompressed tar archive into its regular files. */
export function readTar(tar: Uint8Array, archive: string): TarEntry[] {
  const out: TarEntry[] = [];
  let off = 0;
  let longName: string | null = null;
  let paxPath: string | null = null;
  let sawEnd = false;
  while (off + 512 <= tar.length) {
    const h = tar.subarray(off, off + 512);
    if (h.every((x) => x === 0)) {
      sawEnd = true;
      break;
    }
    const stored = octal(h, 148, 8, 'checksum', archive);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
    if (sum !== stored) throw new Error(`${archive}: corrupt tar header at byte ${off} (checksum ${sum} != ${stored})`);
    const size = octal(h, 124, 12, 'size', archive);
    const type = String.fromCharCode(h[156] || 0x30);
    let name = cstr(h, 0, 100);
    if (cstr(h, 257, 5) === 'ustar') {
      const prefix = cstr(h, 345, 155);
      if (prefix) name = `${prefix}/${name}`;
    }
    const start = off + 512;
    if (start + size > tar.length) throw new Error(`${archive}: truncated: entry '${name}' needs ${size} bytes, ${tar.length - start} left`);
    const data = tar.subarray(start, start + size);
    off = start + Math.ceil(size / 512) * 512;
    if (type === 'L') {
      longName = cstr(data, 0, data.length);
      continue;
    }
    if (type === 'x') {
      const text = Buffer.from(data).toString('utf8');
      const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(text);
      paxPath = m ? m[1] : null;
      continue;
    }
    if (type === 'g') continue;
    const path = paxPath ?? longName ?? name;
    paxPath = null;
    longName = null;
    if (type === '0' || type === '\0' || type === '7') out.push({ path, data });
  }
  if (!sawEnd && off < tar.length) throw new Error(`${archive}: truncated tar (stops inside a header at byte ${off})`);
  if (!sawEnd && out.length === 0) throw new Error(`${archive}: not a tar archive (no entries)`);
  return out;
}
