package herd.server.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** What a request's query parameters mean, and how bad ones are refused. */
class ApiRequestTest {
    private static ApiServer.Request withQuery(Map<String, String> params) {
        return new ApiServer.Request(null, "DELETE", "/v1/servers/s3", params);
    }

    @Test
    void aFlagIsTrueOnlyWhenSaidAndAnythingButTrueOrFalseIsRefused() throws Exception {
        assertThat(withQuery(Map.of()).flag("force")).isFalse();
        assertThat(withQuery(Map.of("force", "false")).flag("force")).isFalse();
        assertThat(withQuery(Map.of("force", "true")).flag("force")).isTrue();
        assertThatThrownBy(() -> withQuery(Map.of("force", "yes")).flag("force"))
            .isInstanceOf(ApiException.class).hasMessage("query parameter force=yes must be true or false");
    }
}
