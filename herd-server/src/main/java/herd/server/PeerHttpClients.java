package herd.server;

import java.time.Duration;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.core5.util.Timeout;

/**
 * HTTP clients for calls between nodes where many calls per second go: Apache HttpClient's blocking
 * client on pooled keep-alive connections, each call on its caller's (virtual) thread. The JDK's
 * client passes every request and response through its selector and executor threads, which cost
 * more CPU than a small call itself. Nothing is retried, redirected or decompressed by the client:
 * whether a call may be sent again is for its caller to decide.
 */
public final class PeerHttpClients {
    private PeerHttpClients() {}

    /**
     * @param connectionsPerNode connections kept open to one node (calls beyond wait for one)
     * @param connectTimeout     opening a connection
     * @param callTimeout        waiting for the answer (and between its bytes)
     * @param poolWaitTimeout    waiting for a free connection to that node
     */
    public static CloseableHttpClient create(int connectionsPerNode, Duration connectTimeout, Duration callTimeout,
                                             Duration poolWaitTimeout) {
        return HttpClients.custom()
            .setConnectionManager(PoolingHttpClientConnectionManagerBuilder.create()
                .setMaxConnPerRoute(connectionsPerNode)
                .setMaxConnTotal(4 * connectionsPerNode)
                .setDefaultConnectionConfig(ConnectionConfig.custom()
                    .setConnectTimeout(Timeout.of(connectTimeout))
                    .setSocketTimeout(Timeout.of(callTimeout))
                    .build())
                .build())
            .setDefaultRequestConfig(RequestConfig.custom()
                .setResponseTimeout(Timeout.of(callTimeout))
                .setConnectionRequestTimeout(Timeout.of(poolWaitTimeout))
                .build())
            .disableAutomaticRetries()
            .disableRedirectHandling()
            .disableCookieManagement()
            .disableContentCompression()
            .build();
    }
}
