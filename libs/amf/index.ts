export { AmfEcmaArray } from './types.ts';
export type { AmfObject, AmfValue } from './types.ts';
export { Amf0Marker, Amf3Marker } from './markers.ts';
export { MAX_AMF_DEPTH, MAX_REFERENCED_BYTES } from './limits.ts';
export { Amf0DecodeContext, decodeAmf0, decodeAmf0Value } from './amf0-decode.ts';
export { decodeAmf3Value } from './amf3-decode.ts';
export { encodeAmf0 } from './amf0-encode.ts';
export { AmfMessageType, decodeCommandPayload } from './command.ts';
