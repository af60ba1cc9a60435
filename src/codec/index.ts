// The codec's public face: frames for UDP and TCP, the keys they are tagged with, the message
// type registry, the replay window, drop counting, and the signing helpers discovery uses.
export { encodeCbor, encodeCborInto, encodeCborView, decodeCbor, scanCbor } from "./cbor.ts";
export { DatagramCodec, decodeMessage, type CodecOptions, type OpenResult } from "./datagram.ts";
export { DropCounter, type Clock, type DropDetails, type LogSink } from "./drops.ts";
export {
  dropReasons,
  finishFrame,
  fixedHeaderBytes,
  frameMagic,
  frameOverheadBytesMax,
  isValidNodeId,
  allocFrameBytes,
  nodeIdBytes,
  prepareFrame,
  prepareFrameOf,
  protocolVersion,
  protocolVersionsSupported,
  readHeader,
  receiverBinding,
  sealFrame,
  verifyFrameTag,
  type DropReason,
  type FrameFields,
  type FrameHeader,
} from "./frame.ts";
export {
  clusterIdOf,
  deriveClusterKeys,
  hmac,
  tagBytes,
  tagsEqual,
  validateClusterName,
  verifyingKeys,
  type ClusterKeys,
  type ClusterSecrets,
  type KeyPurpose,
  type PurposeKeys,
} from "./keys.ts";
export {
  defineMessage,
  firstUserTypeId,
  isBytes,
  isRecord,
  isShortString,
  isUint,
  MessageRegistry,
  type Message,
  type MessageType,
  type SizeClass,
} from "./registry.ts";
export { ReplayWindows, udpSequenceStart } from "./replay-window.ts";
export { StreamReader } from "./stream-reader.ts";
export { emptyOutput, handshakeTypes, TcpChannel, TcpSession, type SessionOutput, type SessionRole, type TcpSessionOptions } from "./tcp-session.ts";
