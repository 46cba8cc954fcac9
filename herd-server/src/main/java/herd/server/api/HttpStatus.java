package herd.server.api;

import herd.core.ErrorCode;

/** The HTTP status for each error code; one table, so the API and the docs agree. */
final class HttpStatus {
    private HttpStatus() {}

    static int of(ErrorCode code) {
        return switch (code) {
            case BAD_REQUEST, KEY_EMPTY, KEY_TOO_LARGE, KEY_INVALID, VALUE_TOO_LARGE, BAD_REVISION, NAME_INVALID,
                ADDRESS_INVALID -> 400;
            case UNAUTHORIZED -> 401;
            case KEY_NOT_FOUND, NODE_NOT_FOUND, NOT_FOUND -> 404;
            case REVISION_MISMATCH, NODE_EXISTS, MEMBERSHIP_REFUSED, CONFLICT -> 409;
            case REVISION_COMPACTED -> 410;
            case NO_LEADER, UNAVAILABLE -> 503;
            case INTERNAL -> 500;
        };
    }
}
