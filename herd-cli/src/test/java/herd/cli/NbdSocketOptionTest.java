package herd.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** What {@code --nbd-socket} stores: an absolute path short enough for a socket, or nothing for {@code none}. */
class NbdSocketOptionTest {

    @Test
    void noneStoresNoSocketAndAPathIsStoredAsGiven() {
        assertThat(AgentCommand.socketSetting("none")).isNull();
        assertThat(AgentCommand.socketSetting("/run/herd/nbd.sock")).isEqualTo("/run/herd/nbd.sock");
    }

    @Test
    void aPathThatCannotBeASocketsIsAUsageError() {
        assertThatThrownBy(() -> AgentCommand.socketSetting("nbd.sock"))
            .isInstanceOfSatisfying(CliException.class, e -> assertThat(e.exitCode()).isEqualTo(ExitCode.USAGE))
            .hasMessage("the NBD socket 'nbd.sock' is not an absolute path: give one like /run/herd/nbd.sock"
                + " (or 'none' for no socket)");
        assertThatThrownBy(() -> AgentCommand.socketSetting("/" + "x".repeat(120)))
            .hasMessageContaining("its path has 121 bytes and a Unix socket's may have at most 107");
    }
}
