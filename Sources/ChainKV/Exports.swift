// Connections, security and `ChainKVError` live in ChainTransport, which the server imports too;
// users of the client library see them as part of ChainKV.
@_exported import ChainTransport
