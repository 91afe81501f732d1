// safetensors: an 8-byte little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}, then the raw
// little-endian tensor bytes. We write tensors in the order given (callers pass a fixed order) and
// pad the header with spaces to a multiple of 8, so identical inputs give byte-identical files.
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from './files.js';

export type SafeDType = 'F32' | 'U8' | 'I64' | 'U32' | 'I32';

export interface SafeTensor {
  dtype: SafeDType;
  shape: number[];
  data: Float32Array | Uint8Array | BigInt64Array | Uint32Array | Int32Array;
}

export type SafeTensors = Map<string, SafeTensor>;

const BYTES: Record<SafeDType, number> = { F32: 4, U8: 1, I64: 8, U32: 4, I32: 4 };

export function encodeSafetensors(tensors: SafeTensors, metadata?: Record<string, string>): Buffer {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== n) throw new Error(`safetensors: ${name} has ${t.data.length} values for shape [${t.shape}]`);
    const bytes = n * BYTES[t.dtype];
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + headerBytes.length + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(out, 8);
  let pos = 8 + headerBytes.length;
  for (const t of tensors.values()) {
    const src = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    src.copy(out, pos);
    pos += src.length;
  }
  return out;
}

export function decodeSafetensors(buf: Buffer, source = 'safetensors'): { tensors: SafeTensors; metadata: Record<string, string> } {
  if (buf.length < 8) throw new Error(`${source}: file too short to be safetensors`);
  const headerLen = Number(buf.readBigUInt64LE(0));
  if (headerLen > buf.length - 8) throw new Error(`${source}: header length ${headerLen} exceeds file size ${buf.length}`);
  let header: Record<string, { dtype: SafeDType; shape: number[]; data_offsets: [number, number] } | Record<string, string>>;
  try {
    header = JSON.parse(buf.subarray(8, 8 + headerLen).toString('utf8'));
  } catch (e) {
    throw new Error(`${source}: corrupt header (${(e as Error).message})`);
  }
  const base = 8 + headerLen;
  const tensors: SafeTensors = new Map();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = entry as Record<string, string>;
      continue;
    }
    const e = entry as { dtype: SafeDType; shape: number[]; data_offsets: [number, number] };
    const [b, end] = e.data_offsets;
    if (!(e.dtype in BYTES)) throw new Error(`${source}: ${name} has unsupported dtype ${e.dtype}`);
    if (base + end > buf.length) throw new Error(`${source}: ${name} data runs past the end of the file (truncated?)`);
    const bytes = buf.subarray(base + b, base + end);
    const copy = new Uint8Array(bytes).buffer; // aligned copy
    const data =
      e.dtype === 'F32' ? new Float32Array(copy) : e.dtype === 'U8' ? new Uint8Array(copy) : e.dtype === 'I64' ? new BigInt64Array(copy) : e.dtype === 'U32' ? new Uint32Array(copy) : new Int32Array(copy);
    const n = e.shape.reduce((a, x) => a * x, 1);
    if (data.length !== n) throw new Error(`${source}: ${name} has ${data.length} values for shape [${e.shape}]`);
    tensors.set(name, { dtype: e.dtype, shape: e.shape, data });
  }
  return { tensors, metadata };
}

export function saveSafetensors(path: string, tensors: SafeTensors, metadata?: Record<string, string>): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

export function loadSafetensors(path: string): { tensors: SafeTensors; metadata: Record<string, string> } {
  return decodeSafetensors(readFileSync(path), path);
}
