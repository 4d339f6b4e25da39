import type { BitReader } from '../../bytes/bit-reader.ts';

/** Profile, tier and level fields shared by the SPS, the VPS and the HVCC record. */
export interface H265ProfileTierLevel {
  generalProfileSpace: number;
  generalTierFlag: number;
  generalProfileIdc: number;
  generalProfileCompatibilityFlags: number;
  generalConstraintIndicatorFlags: Buffer;
  generalLevelIdc: number;
}

/** profile_tier_level(1, maxNumSubLayersMinus1) (§7.3.3); sub-layer fields are skipped. */
export function readProfileTierLevel(r: BitReader, maxNumSubLayersMinus1: number): H265ProfileTierLevel {
  const generalProfileSpace = r.bits(2, 'general_profile_space');
  const generalTierFlag = r.bit('general_tier_flag');
  const generalProfileIdc = r.bits(5, 'general_profile_idc');
  const generalProfileCompatibilityFlags = r.bits(32, 'general_profile_compatibility_flags');
  const generalConstraintIndicatorFlags = Buffer.alloc(6);
  for (let i = 0; i < 6; i++) generalConstraintIndicatorFlags[i] = r.bits(8, 'general constraint flags');
  const generalLevelIdc = r.bits(8, 'general_level_idc');
  const profilePresent: boolean[] = [];
  const levelPresent: boolean[] = [];
  for (let i = 0; i < maxNumSubLayersMinus1; i++) {
    profilePresent.push(r.flag('sub_layer_profile_present_flag'));
    levelPresent.push(r.flag('sub_layer_level_present_flag'));
  }
  if (maxNumSubLayersMinus1 > 0) r.skip(2 * (8 - maxNumSubLayersMinus1), 'reserved_zero_2bits');
  for (let i = 0; i < maxNumSubLayersMinus1; i++) {
    // 2+1+5 profile bits, 32 compatibility flags, 48 constraint bits = 88; level is 8.
    if (profilePresent[i]) r.skip(88, 'sub-layer profile');
    if (levelPresent[i]) r.skip(8, 'sub_layer_level_idc');
  }
  return {
    generalProfileSpace,
    generalTierFlag,
    generalProfileIdc,
    generalProfileCompatibilityFlags,
    generalConstraintIndicatorFlags,
    generalLevelIdc,
  };
}
