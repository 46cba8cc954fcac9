package herd.server.api;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpContext;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpPrincipal;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.List;
import java.util.Map;

/**
 * One request the API's event loop took in, offered to handlers through the JDK's
 * {@link HttpExchange}, so that they read it and write their answer as they would with the JDK's
 * server, from any thread. The body is already in memory (the pipeline aggregates it). The answer
 * leaves in one piece when it is written and closed at once (the common case), and as chunks sent on
 * every {@code flush()} otherwise (watch streams); a flush waits until its chunk is written, so a slow
 * reader slows its writer down and a gone one makes it fail. Closing the exchange ends the answer and
 * lets the connection read its next request ({@code onAnswered}).
 */
final class NettyExchange extends HttpExchange {
    private final Channel channel;
    private final FullHttpRequest request;
    private final URI uri;
    private final Headers requestHeaders = new Headers();
    private final Headers responseHeaders = new Headers();
    private final boolean keepAlive;
    private final Runnable onAnswered;
    private final InputStream requestBody;
    private final AnswerStream answer = new AnswerStream();
    private final Object lock = new Object();
    private int responseCode = -1;
    private long responseLength;
    private boolean headersWritten;
    /** The answer's end is on its way: nothing more may be written. */
    private boolean finishedWriting;
    private boolean closed;

    /**
     * Takes over {@code request} (it releases it when closed).
     *
     * @throws IllegalArgumentException when the request's target is not a valid URI
     */
    NettyExchange(Channel channel, FullHttpRequest request, Runnable onAnswered) {
        this.channel = channel;
        this.request = request;
        this.onAnswered = onAnswered;
        this.keepAlive = HttpUtil.isKeepAlive(request);
        this.requestBody = new ByteBufInputStream(request.content());
        URI parsed;
        try {
            parsed = URI.create(request.uri());
        } catch (IllegalArgumentException e) {
            request.release();
            throw e;
        }
        this.uri = parsed;
        for (Map.Entry<String, String> header : request.headers()) {
            requestHeaders.add(header.getKey(), header.getValue());
        }
    }

    /** The thread that reads and writes this exchange's connection. */
    java.util.concurrent.Executor eventLoop() {
        return channel.eventLoop();
    }

    /** Answers with {@code body} as JSON in one piece, from any thread; the caller still closes the exchange. */
    void answerJson(int status, byte[] body) {
        responseHeaders.set("Content-Type", "application/json");
        synchronized (lock) {
            responseCode = status;
            responseLength = body.length;
            writeWhole(Unpooled.wrappedBuffer(body));
        }
    }

    @Override
    public Headers getRequestHeaders() {
        return requestHeaders;
    }

    @Override
    public Headers getResponseHeaders() {
        return responseHeaders;
    }

    @Override
    public URI getRequestURI() {
        return uri;
    }

    @Override
    public String getRequestMethod() {
        return request.method().name();
    }

    @Override
    public HttpContext getHttpContext() {
        return null;
    }

    @Override
    public InputStream getRequestBody() {
        return requestBody;
    }

    @Override
    public OutputStream getResponseBody() {
        return answer;
    }

    /** As the JDK's: {@code length} > 0 is the exact size, 0 an unknown size (chunked), -1 no body. */
    @Override
    public void sendResponseHeaders(int code, long length) throws IOException {
        synchronized (lock) {
            if (headersWritten || responseCode != -1) {
                throw new IOException("the answer's headers were sent already");
            }
            responseCode = code;
            responseLength = length;
            if (length == -1) {
                writeWhole(Unpooled.EMPTY_BUFFER);
            }
        }
    }

    @Override
    public InetSocketAddress getRemoteAddress() {
        return (InetSocketAddress) channel.remoteAddress();
    }

    @Override
    public int getResponseCode() {
        return responseCode;
    }

    @Override
    public InetSocketAddress getLocalAddress() {
        return (InetSocketAddress) channel.localAddress();
    }

    @Override
    public String getProtocol() {
        return request.protocolVersion().text();
    }

    @Override
    public Object getAttribute(String name) {
        return null;
    }

    @Override
    public void setAttribute(String name, Object value) {
        throw new UnsupportedOperationException("the API keeps no attributes on an exchange");
    }

    @Override
    public void setStreams(InputStream in, OutputStream out) {
        throw new UnsupportedOperationException("the API does not filter its streams");
    }

    @Override
    public HttpPrincipal getPrincipal() {
        return null;
    }

    /**
     * Ends the answer: what was written leaves, with the end of the body. An exchange closed before
     * it answered closes its connection, as the JDK's server does: the client sees the request fail.
     */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            request.release();
            if (responseCode == -1) {
                channel.close();
                return;
            }
            if (!headersWritten) {
                writeWhole(answer.takePending());
            } else if (!finishedWriting) {
                finish(channel.writeAndFlush(new DefaultLastHttpContent(answer.takePending())));
            }
        }
    }

    /** Headers and the whole body at once: an answer without a body, or one written and closed without a flush. */
    private void writeWhole(ByteBuf body) {
        headersWritten = true;
        if (responseLength > 0 && body.readableBytes() != responseLength) {
            body.release();
            channel.close(); // as the JDK's server: a body shorter than announced cannot be sent
            return;
        }
        DefaultFullHttpResponse whole = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
            HttpResponseStatus.valueOf(responseCode), body);
        copyResponseHeaders(whole.headers(), body.readableBytes());
        finish(channel.writeAndFlush(whole));
    }

    /** The response's headers for a stream: a fixed length, or chunked when the size is unknown. */
    private HttpResponse streamHead() {
        DefaultHttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(responseCode));
        copyResponseHeaders(head.headers(), responseLength);
        if (responseLength == 0) {
            head.headers().remove(HttpHeaderNames.CONTENT_LENGTH);
            HttpUtil.setTransferEncodingChunked(head, true);
        }
        return head;
    }

    private void copyResponseHeaders(HttpHeaders into, long contentLength) {
        for (Map.Entry<String, List<String>> header : responseHeaders.entrySet()) {
            into.add(header.getKey(), header.getValue());
        }
        into.set(HttpHeaderNames.CONTENT_LENGTH, contentLength);
        if (!keepAlive) {
            into.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
    }

    /** After the last write: the next request on this connection, or the connection's end. */
    private void finish(ChannelFuture lastWrite) {
        finishedWriting = true;
        if (keepAlive) {
            lastWrite.addListener((ChannelFutureListener) written -> {
                if (written.isSuccess()) {
                    onAnswered.run();
                } else {
                    written.channel().close();
                }
            });
        } else {
            lastWrite.addListener(ChannelFutureListener.CLOSE);
        }
    }

    /** Writes a chunk of a streamed answer and waits until it is on its way. */
    private void writeChunk(ByteBuf chunk) throws IOException {
        ChannelFuture written;
        synchronized (lock) {
            if (closed || finishedWriting) {
                chunk.release();
                throw new IOException("the answer was ended already");
            }
            if (!headersWritten) {
                if (responseCode == -1) {
                    chunk.release();
                    throw new IOException("send the answer's headers before its body");
                }
                headersWritten = true;
                channel.write(streamHead());
            }
            written = channel.writeAndFlush(new DefaultHttpContent(chunk));
        }
        if (channel.eventLoop().inEventLoop()) {
            return; // waiting here would wait for this very thread
        }
        try {
            written.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while sending the answer");
        }
        if (!written.isSuccess()) {
            throw new IOException("the client went away: " + written.cause(), written.cause());
        }
    }

    /** The answer's body: collects what is written; {@code flush()} sends it as a chunk. */
    private final class AnswerStream extends OutputStream {
        private ByteBuf pending = Unpooled.buffer(0);

        @Override
        public void write(int b) {
            synchronized (lock) {
                pending.writeByte(b);
            }
        }

        @Override
        public void write(byte[] bytes, int offset, int length) {
            synchronized (lock) {
                pending.writeBytes(bytes, offset, length);
            }
        }

        @Override
        public void flush() throws IOException {
            ByteBuf chunk;
            synchronized (lock) {
                if (!pending.isReadable() || closed) {
                    return;
                }
                chunk = takePending();
            }
            writeChunk(chunk);
        }

        /** The JDK's exchange ends the answer when its body stream is closed. */
        @Override
        public void close() {
            NettyExchange.this.close();
        }

        ByteBuf takePending() {
            ByteBuf taken = pending;
            pending = Unpooled.buffer(0);
            return taken;
        }
    }
}
