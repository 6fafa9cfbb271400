export { Decoder, DEFAULT_GENEVE_PORTS, DEFAULT_VXLAN_PORTS, MAX_TUNNEL_DEPTH } from './decoder.js';
export type { DecoderOptions } from './decoder.js';
export { formatDst, formatEndpoint, formatIp, formatOuterDst, formatOuterSrc, formatSrc } from './format.js';
export {
  isDecodedLinkType,
  LINKTYPE,
  LinkDecoder,
  linkDecoderFor,
  linkTypeInfo,
  linkTypeLabel,
  linkTypeName,
  linkTypes,
} from '../linktypes.js';
export type { LinkDecoderCode, LinkTypeInfo } from '../linktypes.js';
