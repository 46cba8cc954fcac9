package herd.cli;

/** Turns API error answers into one-line CLI errors with a meaningful exit code. */
final class Failures {
    private Failures() {}

    static CliException fromResponse(ApiClient.Response response) {
        int exit = switch (response.status()) {
            case 401 -> ExitCode.UNAUTHORIZED;
            case 404 -> ExitCode.NOT_FOUND;
            case 409 -> ExitCode.CONFLICT;
            case 503 -> ExitCode.UNAVAILABLE;
            case 400, 405, 410, 413 -> ExitCode.USAGE;
            default -> ExitCode.FAILURE;
        };
        return new CliException(exit, response.errorMessage() + " [" + response.errorCode() + "]");
    }

    /** Returns the response when it succeeded, else throws its error. */
    static ApiClient.Response check(ApiClient.Response response) {
        if (!response.ok()) {
            throw fromResponse(response);
        }
        return response;
    }
}
