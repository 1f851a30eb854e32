// What a program that depends on the `ChainKV` product gets from `import ChainKV`, and nothing
// more: every type the public API names is declared here or re-exported below. The modules these
// come from (ChainTransport, ChainWire, ChainCore) are not products; the rest of their public
// declarations are for the package's own targets (server, CLI, tests).
//
// ChainTransport whole: its public declarations are the client-visible ones (`ChainKVError`,
// `ConnectionSecurity` with its `TLS`, `SharedSecret`); its connections, handshake and server
// helpers are `package` access.
@_exported public import ChainTransport
// The types of errors and results, one by one (ChainWire also holds the wire format, and
// ChainCore the protocol state machines, which are not client API).
@_exported public import enum ChainWire.ErrorCode
@_exported public import struct ChainWire.ChainInfo
@_exported public import struct ChainWire.NodeAddress
@_exported public import struct ChainWire.ShardMap
@_exported public import struct ChainCore.VersionedValue
