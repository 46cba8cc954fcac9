package herd.block.nbd;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * The file of a listening Unix socket. Who may connect is who may write it: the owner and the
 * owner's group ({@link #MODE}), so a client such as qemu is admitted by its group, and other users
 * of the machine are not (on TCP, even on loopback, any local user can connect, and NBD has no
 * authentication). A socket file left by a server that died is replaced; one a live server
 * answers on, or a file that is no socket, is left alone and the bind refused.
 */
final class UnixSocketFile {
    /** {@code rw-rw----}. */
    static final Set<PosixFilePermission> MODE = PosixFilePermissions.fromString("rw-rw----");
    private static final int S_IFMT = 0170000;
    private static final int S_IFSOCK = 0140000;

    private UnixSocketFile() {
    }

    /** A channel listening on {@code address}, its file with {@link #MODE}. */
    static ServerSocketChannel bind(UnixDomainSocketAddress address, int backlog) throws IOException {
        Path path = address.getPath();
        checkPlace(path);
        removeIfStale(path);
        ServerSocketChannel channel = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            channel.bind(address, backlog);
            Files.setPosixFilePermissions(path, MODE);
            return channel;
        } catch (IOException e) {
            channel.close();
            throw new IOException("cannot listen for NBD on unix socket " + path + ": " + e.getMessage(), e);
        }
    }

    /** Removes the socket file at {@code address} if it is still one (at close: no server answers there now). */
    static void remove(UnixDomainSocketAddress address) {
        try {
            if (isSocket(address.getPath())) {
                Files.deleteIfExists(address.getPath());
            }
        } catch (IOException e) {
            // left for the next start, which replaces it
        }
    }

    private static void checkPlace(Path path) throws IOException {
        var tooLong = NbdServer.socketPathProblem(path.toString());
        if (tooLong.isPresent()) {
            throw new IOException("cannot listen for NBD on unix socket " + path + ": " + tooLong.get());
        }
        Path directory = path.toAbsolutePath().getParent();
        if (directory == null || !Files.isDirectory(directory)) {
            throw new IOException("cannot listen for NBD on unix socket " + path + ": the directory " + directory
                + " does not exist; create it or choose another path");
        }
    }

    /**
     * Removes a socket file no server answers on (its server died without removing it); refuses a
     * path that holds anything else, or a socket that is in use.
     */
    private static void removeIfStale(Path path) throws IOException {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (!isSocket(path)) {
            throw new IOException("cannot listen for NBD on unix socket " + path + ": a file that is not a socket is"
                + " there; remove it or choose another path");
        }
        try (SocketChannel probe = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
            throw new IOException("cannot listen for NBD on unix socket " + path + ": another server listens on it"
                + " (is this node already running?)");
        } catch (java.net.ConnectException e) {
            Files.deleteIfExists(path); // connection refused: nothing listens
        }
    }

    private static boolean isSocket(Path path) throws IOException {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        int mode = (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        return (mode & S_IFMT) == S_IFSOCK;
    }
}
