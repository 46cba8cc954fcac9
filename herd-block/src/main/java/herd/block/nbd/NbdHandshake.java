package herd.block.nbd;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fixed newstyle handshake and option haggling of one connection. Ends with the session to
 * serve, or empty when the client aborted or was refused an export by NBD_OPT_EXPORT_NAME (which
 * cannot carry an error, so the connection closes).
 */
final class NbdHandshake {
    private static final Logger log = LoggerFactory.getLogger(NbdHandshake.class);

    /** Options accepted before transmission: a client that loops forever is cut off. */
    static final int MAX_OPTIONS_PER_CONNECTION = 4096;
    /** Largest option payload; the protocol's strings are at most 4 KiB. */
    static final int MAX_OPTION_BYTES = 64 * 1024;

    /** What transmission needs from negotiation. */
    record Session(String exportName, BlockDevice device, boolean structuredReplies, boolean blockStatus) {}

    /** A client broke the protocol; its connection is closed. */
    static final class ProtocolViolation extends Exception {
        ProtocolViolation(String message) {
            super(message);
        }
    }

    private final DataInputStream in;
    private final DataOutputStream out;
    private final ExportResolver resolver;
    private final String client;
    private boolean noZeroes;
    private boolean structuredReplies;
    /** The export for which base:allocation was selected, or null. */
    private String metaContextExport;
    /** Set by the option that ends negotiation. */
    private Session session;

    private enum OptionOutcome { CONTINUE, CLOSE, TRANSMIT }

    NbdHandshake(DataInputStream in, DataOutputStream out, ExportResolver resolver, String client) {
        this.in = in;
        this.out = out;
        this.resolver = resolver;
        this.client = client;
    }

    Optional<Session> negotiate() throws IOException, ProtocolViolation {
        out.writeLong(NbdProtocol.INIT_PASSWD);
        out.writeLong(NbdProtocol.IHAVEOPT);
        out.writeShort(NbdProtocol.FLAG_FIXED_NEWSTYLE | NbdProtocol.FLAG_NO_ZEROES);
        out.flush();
        readClientFlags();
        for (int options = 0; options < MAX_OPTIONS_PER_CONNECTION; options++) {
            long magic = in.readLong();
            if (magic != NbdProtocol.IHAVEOPT) {
                throw new ProtocolViolation("option does not start with IHAVEOPT (got 0x"
                        + Long.toHexString(magic) + ")");
            }
            int option = in.readInt();
            long length = Integer.toUnsignedLong(in.readInt());
            if (length > MAX_OPTION_BYTES) {
                throw new ProtocolViolation("option " + option + " carries " + length + " bytes; at most "
                        + MAX_OPTION_BYTES);
            }
            byte[] data = new byte[(int) length];
            in.readFully(data);
            OptionOutcome outcome = handleOption(option, data);
            out.flush();
            switch (outcome) {
                case CONTINUE -> { }
                case CLOSE -> {
                    return Optional.empty();
                }
                case TRANSMIT -> {
                    return Optional.of(session);
                }
            }
        }
        throw new ProtocolViolation("more than " + MAX_OPTIONS_PER_CONNECTION + " options");
    }

    private void readClientFlags() throws IOException, ProtocolViolation {
        int clientFlags = in.readInt();
        if ((clientFlags & ~(NbdProtocol.FLAG_C_FIXED_NEWSTYLE | NbdProtocol.FLAG_C_NO_ZEROES)) != 0) {
            throw new ProtocolViolation("client sent unknown flags 0x" + Integer.toHexString(clientFlags));
        }
        if ((clientFlags & NbdProtocol.FLAG_C_FIXED_NEWSTYLE) == 0) {
            throw new ProtocolViolation(
                    "client does not speak the fixed newstyle handshake, which this server requires");
        }
        noZeroes = (clientFlags & NbdProtocol.FLAG_C_NO_ZEROES) != 0;
    }

    private OptionOutcome handleOption(int option, byte[] data) throws IOException {
        return switch (option) {
            case NbdProtocol.OPT_EXPORT_NAME -> exportName(new String(data, StandardCharsets.UTF_8));
            case NbdProtocol.OPT_ABORT -> {
                reply(option, NbdProtocol.REP_ACK, new byte[0]);
                yield OptionOutcome.CLOSE;
            }
            case NbdProtocol.OPT_LIST -> list(option, data);
            case NbdProtocol.OPT_INFO, NbdProtocol.OPT_GO -> infoOrGo(option, data);
            case NbdProtocol.OPT_STRUCTURED_REPLY -> structuredReply(option, data);
            case NbdProtocol.OPT_LIST_META_CONTEXT, NbdProtocol.OPT_SET_META_CONTEXT -> metaContext(option, data);
            default -> {
                error(option, NbdProtocol.REP_ERR_UNSUP, "option " + option + " is not supported by this server");
                yield OptionOutcome.CONTINUE;
            }
        };
    }

    private OptionOutcome exportName(String exportName) throws IOException {
        Optional<BlockDevice> device = resolve(exportName, NbdProtocol.OPT_EXPORT_NAME, false);
        if (device.isEmpty()) {
            return OptionOutcome.CLOSE;
        }
        out.write(NbdMessages.exportNameReply(device.get().sizeBytes(), transmissionFlags(device.get()), noZeroes));
        // NBD_OPT_EXPORT_NAME predates meta contexts' binding to an export: honour a selection made for it.
        session = new Session(exportName, device.get(), structuredReplies, exportName.equals(metaContextExport));
        return OptionOutcome.TRANSMIT;
    }

    private OptionOutcome list(int option, byte[] data) throws IOException {
        if (data.length != 0) {
            error(option, NbdProtocol.REP_ERR_INVALID, "NBD_OPT_LIST takes no data");
            return OptionOutcome.CONTINUE;
        }
        for (String exportName : resolver.exportNames()) {
            reply(option, NbdProtocol.REP_SERVER, NbdMessages.serverEntry(exportName));
        }
        reply(option, NbdProtocol.REP_ACK, new byte[0]);
        return OptionOutcome.CONTINUE;
    }

    private OptionOutcome infoOrGo(int option, byte[] data) throws IOException {
        NbdMessages.GoRequest request;
        try {
            request = NbdMessages.parseGo(data);
        } catch (NbdMessages.MalformedOptionException e) {
            error(option, NbdProtocol.REP_ERR_INVALID, e.getMessage());
            return OptionOutcome.CONTINUE;
        }
        Optional<BlockDevice> found = resolve(request.exportName(), option, true);
        if (found.isEmpty()) {
            return OptionOutcome.CONTINUE;
        }
        BlockDevice device = found.get();
        reply(option, NbdProtocol.REP_INFO, NbdMessages.infoExport(device.sizeBytes(), transmissionFlags(device)));
        if (request.informationRequests().contains(NbdProtocol.INFO_NAME)) {
            reply(option, NbdProtocol.REP_INFO, NbdMessages.infoName(request.exportName()));
        }
        reply(option, NbdProtocol.REP_INFO, NbdMessages.infoBlockSize());
        reply(option, NbdProtocol.REP_ACK, new byte[0]);
        if (option == NbdProtocol.OPT_INFO) {
            return OptionOutcome.CONTINUE;
        }
        session = new Session(request.exportName(), device, structuredReplies,
                request.exportName().equals(metaContextExport));
        return OptionOutcome.TRANSMIT;
    }

    private OptionOutcome structuredReply(int option, byte[] data) throws IOException {
        if (data.length != 0) {
            error(option, NbdProtocol.REP_ERR_INVALID, "NBD_OPT_STRUCTURED_REPLY takes no data");
            return OptionOutcome.CONTINUE;
        }
        structuredReplies = true;
        reply(option, NbdProtocol.REP_ACK, new byte[0]);
        return OptionOutcome.CONTINUE;
    }

    private OptionOutcome metaContext(int option, byte[] data) throws IOException {
        if (!structuredReplies) {
            error(option, NbdProtocol.REP_ERR_INVALID, "negotiate NBD_OPT_STRUCTURED_REPLY before meta contexts");
            return OptionOutcome.CONTINUE;
        }
        NbdMessages.MetaContextRequest request;
        try {
            request = NbdMessages.parseMetaContext(data);
        } catch (NbdMessages.MalformedOptionException e) {
            error(option, NbdProtocol.REP_ERR_INVALID, e.getMessage());
            return OptionOutcome.CONTINUE;
        }
        if (resolve(request.exportName(), option, true).isEmpty()) {
            return OptionOutcome.CONTINUE;
        }
        if (option == NbdProtocol.OPT_LIST_META_CONTEXT) {
            if (listsBaseAllocation(request.queries())) {
                reply(option, NbdProtocol.REP_META_CONTEXT, NbdMessages.metaContext(0, NbdProtocol.BASE_ALLOCATION));
            }
        } else {
            boolean selected = request.queries().contains(NbdProtocol.BASE_ALLOCATION);
            metaContextExport = selected ? request.exportName() : null;
            if (selected) {
                reply(option, NbdProtocol.REP_META_CONTEXT, NbdMessages.metaContext(
                        NbdProtocol.BASE_ALLOCATION_CONTEXT_ID, NbdProtocol.BASE_ALLOCATION));
            }
        }
        reply(option, NbdProtocol.REP_ACK, new byte[0]);
        return OptionOutcome.CONTINUE;
    }

    /** No query lists every context; "base:" lists the base namespace. */
    private static boolean listsBaseAllocation(List<String> queries) {
        return queries.isEmpty() || queries.contains("base:") || queries.contains(NbdProtocol.BASE_ALLOCATION);
    }

    /**
     * The device for an export name, or empty after telling the client why (with an option error
     * when {@code canReply}) and logging the refusal.
     */
    private Optional<BlockDevice> resolve(String exportName, int option, boolean canReply) throws IOException {
        String message;
        int errorType;
        boolean forIo = option == NbdProtocol.OPT_GO || option == NbdProtocol.OPT_EXPORT_NAME;
        switch (forIo ? resolver.resolve(exportName) : resolver.inspect(exportName)) {
            case ExportResolution.Found(BlockDevice device) -> {
                return Optional.of(device);
            }
            case ExportResolution.Unknown unknown -> {
                errorType = NbdProtocol.REP_ERR_UNKNOWN;
                message = "export '" + exportName + "' does not exist; exports here: "
                        + String.join(", ", resolver.exportNames());
            }
            case ExportResolution.Refused(String reason) -> {
                errorType = NbdProtocol.REP_ERR_POLICY;
                message = "export '" + exportName + "' is not served here: " + reason;
            }
        }
        log.info("NBD client {} refused: {}", client, message);
        if (canReply) {
            error(option, errorType, message);
        }
        return Optional.empty();
    }

    static int transmissionFlags(BlockDevice device) {
        int flags = NbdProtocol.FLAG_HAS_FLAGS | NbdProtocol.FLAG_SEND_FLUSH | NbdProtocol.FLAG_SEND_FUA
                | NbdProtocol.FLAG_CAN_MULTI_CONN;
        if (device.readOnly()) {
            return flags | NbdProtocol.FLAG_READ_ONLY;
        }
        return flags | NbdProtocol.FLAG_SEND_TRIM | NbdProtocol.FLAG_SEND_WRITE_ZEROES;
    }

    private void reply(int option, int replyType, byte[] payload) throws IOException {
        out.write(NbdMessages.optionReply(option, replyType, payload));
    }

    private void error(int option, int errorType, String message) throws IOException {
        out.write(NbdMessages.optionError(option, errorType, message));
    }
}
