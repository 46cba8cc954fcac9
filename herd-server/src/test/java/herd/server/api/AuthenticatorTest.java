package herd.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class AuthenticatorTest {
    private final Authenticator authenticator = new Authenticator("admin-secret", "node-secret");

    @Test
    void acceptsTheAdminTokenAndTheNodeTokenAsBearers() {
        assertThat(authenticator.allows("Bearer admin-secret")).isTrue();
        assertThat(authenticator.allows("bearer node-secret")).isTrue();
        assertThat(authenticator.allows("Bearer   admin-secret  ")).isTrue();
    }

    @Test
    void refusesEverythingElse() {
        assertThat(authenticator.allows(null)).isFalse();
        assertThat(authenticator.allows("")).isFalse();
        assertThat(authenticator.allows("Bearer ")).isFalse();
        assertThat(authenticator.allows("Bearer admin-secreT")).isFalse();
        assertThat(authenticator.allows("Bearer admin-secret-and-more")).isFalse();
        assertThat(authenticator.allows("Basic admin-secret")).isFalse();
        assertThat(authenticator.allows("admin-secret")).isFalse();
    }
}
