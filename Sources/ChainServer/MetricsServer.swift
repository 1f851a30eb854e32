import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus

/// The operator's HTTP port (`metricsPort`): Prometheus text at `GET /metrics`, liveness at
/// `GET /healthz` (200 "ok" while the process runs), readiness at `GET /readyz` (200 "ok", or 503
/// with the first rule of `Readiness` that fails; decided on the node's loop).
enum MetricsServer {
    static func start(host: String, port: Int, registry: PrometheusCollectorRegistry, node: ServerNode,
                      group: EventLoopGroup) async throws -> Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(MetricsHandler(registry: registry, node: node))
                }
            }
            .bind(host: host, port: port).get()
    }
}

private final class MetricsHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    private let registry: PrometheusCollectorRegistry
    private let node: ServerNode
    private var path = ""

    init(registry: PrometheusCollectorRegistry, node: ServerNode) {
        self.registry = registry
        self.node = node
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            path = head.method == .GET ? head.uri : ""
        case .body:
            break
        case .end:
            switch path {
            case "/metrics":
                respond(context, .ok, registry.emitToBuffer(), contentType: "text/plain; version=0.0.4")
            case "/healthz":
                respond(context, .ok, Array("ok\n".utf8))
            case "/readyz":
                // Shells and configurations are confined to the node's loop: ask there.
                let node = self.node
                node.loop.submit { node.unreadiness() }.hop(to: context.eventLoop).assumeIsolated().whenComplete { result in
                    switch result {
                    case .success(nil): self.respond(context, .ok, Array("ok\n".utf8))
                    case .success(let reason?): self.respond(context, .serviceUnavailable, Array("not ready: \(reason)\n".utf8))
                    case .failure(let error): self.respond(context, .serviceUnavailable, Array("not ready: \(error)\n".utf8))
                    }
                }
            default:
                respond(context, .notFound, Array("not found: try GET /metrics, /healthz or /readyz\n".utf8))
            }
        }
    }

    private func respond(_ context: ChannelHandlerContext, _ status: HTTPResponseStatus, _ body: [UInt8],
                         contentType: String = "text/plain") {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: "\(body.count)")
        headers.add(name: "Connection", value: "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }
}
