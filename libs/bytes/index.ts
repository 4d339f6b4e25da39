export { ByteReader } from './byte-reader.ts';
export { ByteWriter } from './byte-writer.ts';
export { BitReader } from './bit-reader.ts';
export { BitWriter } from './bit-writer.ts';
