package herd.server.api;

import herd.core.ErrorCode;
import herd.core.Rejection;

/** An error answer: HTTP status, stable code, and a message that says what to do. */
public final class ApiException extends Exception {
    private final int status;
    private final ErrorCode code;

    public ApiException(int status, ErrorCode code, String message) {
        super(message, null, false, false);
        this.status = status;
        this.code = code;
    }

    public static ApiException of(Rejection rejection) {
        return new ApiException(HttpStatus.of(rejection.code()), rejection.code(), rejection.message());
    }

    public static ApiException badRequest(String message) {
        return new ApiException(400, ErrorCode.BAD_REQUEST, message);
    }

    public int status() {
        return status;
    }

    public ErrorCode code() {
        return code;
    }
}
