package herd.block;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** The command line of {@link LocalNbdMain}, parsed and checked. Pure. */
public record LocalNbdOptions(Path directory, long capacityBytes, List<ExportSpec> exports, InetSocketAddress listen) {

    public static final String USAGE = "usage: LocalNbdMain --dir DIR --capacity BYTES --export NAME:SIZE[:ro] "
            + "[--export ...] [--listen HOST:PORT]   (sizes take K, M, G, T suffixes, powers of 1024; "
            + "--listen defaults to 127.0.0.1:10809)";

    /** One export: a volume of the store under a name. */
    public record ExportSpec(String name, long sizeBytes, boolean readOnly) {}

    /** Thrown for a bad command line; the message says what is wrong and how to fix it. */
    public static final class UsageException extends Exception {
        public UsageException(String message) {
            super(message + "\n" + USAGE);
        }
    }

    public static LocalNbdOptions parse(String[] args) throws UsageException {
        Path directory = null;
        Long capacityBytes = null;
        List<ExportSpec> exports = new ArrayList<>();
        InetSocketAddress listen = new InetSocketAddress("127.0.0.1", 10809);
        for (int i = 0; i < args.length; i++) {
            String option = args[i];
            if (i + 1 >= args.length) {
                throw new UsageException("option " + option + " needs a value");
            }
            String value = args[++i];
            switch (option) {
                case "--dir" -> directory = Path.of(value);
                case "--capacity" -> capacityBytes = parseSize(value, "--capacity");
                case "--export" -> exports.add(parseExport(value));
                case "--listen" -> listen = parseListen(value);
                default -> throw new UsageException("unknown option " + option);
            }
        }
        if (directory == null) {
            throw new UsageException("--dir is required: the directory that holds the objects");
        }
        if (capacityBytes == null) {
            throw new UsageException("--capacity is required: the bytes the store may use");
        }
        if (exports.isEmpty()) {
            throw new UsageException("give at least one --export NAME:SIZE");
        }
        Set<String> names = new HashSet<>();
        for (ExportSpec export : exports) {
            if (!names.add(export.name())) {
                throw new UsageException("export " + export.name() + " is given twice");
            }
        }
        return new LocalNbdOptions(directory, capacityBytes, List.copyOf(exports), listen);
    }

    static ExportSpec parseExport(String value) throws UsageException {
        String[] parts = value.split(":", -1);
        if (parts.length < 2 || parts.length > 3 || parts[0].isEmpty()) {
            throw new UsageException("--export " + value + ": expected NAME:SIZE or NAME:SIZE:ro");
        }
        if (parts.length == 3 && !parts[2].equals("ro")) {
            throw new UsageException("--export " + value + ": the third part may only be 'ro' (read-only)");
        }
        return new ExportSpec(parts[0], parseSize(parts[1], "--export " + value), parts.length == 3);
    }

    /** A positive byte count with an optional K, M, G or T suffix (powers of 1024). */
    static long parseSize(String value, String what) throws UsageException {
        String digits = value;
        int shift = 0;
        if (!value.isEmpty()) {
            int suffix = "KMGT".indexOf(Character.toUpperCase(value.charAt(value.length() - 1)));
            if (suffix >= 0) {
                shift = 10 * (suffix + 1);
                digits = value.substring(0, value.length() - 1);
            }
        }
        try {
            long number = Long.parseLong(digits);
            if (number <= 0 || number > (Long.MAX_VALUE >> shift)) {
                throw new UsageException(what + ": size " + value + " must be positive and below 8 EiB");
            }
            return number << shift;
        } catch (NumberFormatException e) {
            throw new UsageException(what + ": '" + value + "' is not a size (examples: 1073741824, 512M, 10G)");
        }
    }

    static InetSocketAddress parseListen(String value) throws UsageException {
        int colon = value.lastIndexOf(':');
        if (colon <= 0) {
            throw new UsageException("--listen " + value + ": expected HOST:PORT, e.g. 127.0.0.1:10809");
        }
        try {
            int port = Integer.parseInt(value.substring(colon + 1));
            if (port < 0 || port > 65535) {
                throw new NumberFormatException();
            }
            return new InetSocketAddress(value.substring(0, colon), port);
        } catch (NumberFormatException e) {
            throw new UsageException("--listen " + value + ": the port must be a number from 0 to 65535");
        }
    }
}
