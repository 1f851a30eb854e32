// ServerConfig lives in its own small target (Foundation and swift-log only) so the fuzz-json
// target can decode configuration files without building the server's TLS and crypto
// dependencies; users of ChainServer see it as before.
@_exported import ChainServerConfig
