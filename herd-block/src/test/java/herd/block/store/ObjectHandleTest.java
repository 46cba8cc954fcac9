package herd.block.store;

import static org.assertj.core.api.Assertions.assertThat;

import herd.blockcore.ObjectId;
import org.junit.jupiter.api.Test;

/** The use count that lets the store close an idle object's file while operations find it without a lock. */
class ObjectHandleTest {
    private final ObjectHandle handle = new ObjectHandle(ObjectId.of(1, 0), null);

    @Test
    void aHandleWithAHolderIsNotClosed() {
        assertThat(handle.tryUse()).isTrue();

        assertThat(handle.closeIfIdle()).isFalse();
        assertThat(handle.tryUse()).as("another holder may still come").isTrue();
    }

    @Test
    void anIdleHandleClosesAndNoHolderComesAfter() {
        assertThat(handle.tryUse()).isTrue();
        handle.release();

        assertThat(handle.closeIfIdle()).isTrue();
        assertThat(handle.tryUse()).as("its file is closed: the object must be opened again").isFalse();
        assertThat(handle.closeIfIdle()).isFalse();
    }

    @Test
    void aCloseThatFailedLetsHoldersComeAgain() {
        assertThat(handle.closeIfIdle()).isTrue();

        handle.reopenAfterFailedClose();

        assertThat(handle.tryUse()).isTrue();
        assertThat(handle.closeIfIdle()).isFalse();
    }
}
