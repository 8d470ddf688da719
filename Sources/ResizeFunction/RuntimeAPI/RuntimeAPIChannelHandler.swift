import NIOCore
import NIOHTTP1

/// A request for the Runtime API and the promise its whole response completes.
struct RuntimeAPIExchange: Sendable {
    var head: HTTPRequestHead
    /// The body, in the parts it is written in (several for a streamed response).
    var body: [ByteBuffer]
    var response: EventLoopPromise<RuntimeAPIResponse>
}

/// A complete Runtime API response.
struct RuntimeAPIResponse: Sendable {
    var status: HTTPResponseStatus
    var headers: HTTPHeaders
    var body: ByteBuffer
    /// False when the server will close the connection after this response.
    var keepAlive: Bool
}

/// The connection lost its peer (or failed) with a request outstanding.
struct RuntimeAPIConnectionClosed: Error, Sendable {}

/// Turns one `RuntimeAPIExchange` at a time into HTTP/1.1 request parts and completes its
/// promise with the response, collected whole. A connection that closes or fails fails the
/// outstanding exchange, so the client can reconnect and retry.
///
/// Lives on the channel's event loop; the client only writes exchanges into the channel.
final class RuntimeAPIChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = RuntimeAPIExchange
    typealias OutboundOut = HTTPClientRequestPart

    private var pending: EventLoopPromise<RuntimeAPIResponse>?
    private var head: HTTPResponseHead?
    private var body: ByteBuffer?

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let exchange = unwrapOutboundIn(data)
        guard pending == nil else {
            // The client sends one request at a time; a second one is a bug, not a wait.
            exchange.response.fail(ChannelError.inappropriateOperationForState)
            promise?.fail(ChannelError.inappropriateOperationForState)
            return
        }
        pending = exchange.response
        context.write(wrapOutboundOut(.head(exchange.head)), promise: nil)
        for part in exchange.body {
            context.write(wrapOutboundOut(.body(.byteBuffer(part))), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = context.channel.allocator.buffer(capacity: 0)
        case .body(var part):
            body?.writeBuffer(&part)
        case .end:
            guard let head, let pending else { return }
            self.pending = nil
            self.head = nil
            let response = RuntimeAPIResponse(
                status: head.status, headers: head.headers,
                body: body ?? context.channel.allocator.buffer(capacity: 0), keepAlive: head.isKeepAlive)
            body = nil
            pending.succeed(response)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failPending(RuntimeAPIConnectionClosed())
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failPending(error)
        context.close(promise: nil)
    }

    private func failPending(_ error: any Error) {
        guard let pending else { return }
        self.pending = nil
        head = nil
        body = nil
        pending.fail(error)
    }
}
