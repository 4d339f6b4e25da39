/** A decoded or encodable AMF value. AMF0 ECMA arrays decode to plain `AmfObject`s. */
export type AmfValue =
  number | boolean | string | null | undefined | Date | AmfValue[] | AmfObject | AmfEcmaArray;

export interface AmfObject {
  [key: string]: AmfValue;
}

/**
 * Marks an object to encode as an AMF0 ECMA array (marker 0x08) instead of an anonymous
 * object (0x03). FLV onMetaData is conventionally an ECMA array. Decoding never returns
 * this class: ECMA arrays decode to plain objects so consumers can read `meta.width`.
 */
export class AmfEcmaArray {
  readonly entries: AmfObject;

  constructor(entries: AmfObject) {
    this.entries = entries;
  }
}
